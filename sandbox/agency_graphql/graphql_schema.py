"""The provincial system's GraphQL schema, exactly as the contract in ``sandbox/README.md``.

Built with graphql-core's type classes rather than from SDL text, so that the custom scalars
and the root resolvers are wired in the constructors instead of patched onto a built schema.
Object fields use graphql-core's default resolver: resolvers return dicts keyed by the
GraphQL field names.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from graphql import (
    ConstValueNode,
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLError,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    StringValueNode,
)

__all__ = ["DEFAULT_PAGE", "Resolver", "build_schema"]

DEFAULT_PAGE = 100

Resolver = Callable[..., Any]  # graphql-core's resolver signature: (root, info, **arguments)


def _date_out(value: object) -> str:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    raise GraphQLError(f"Date cannot represent {value!r}")


def _date_in(value: object) -> date:
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise GraphQLError("Date must be a string YYYY-MM-DD")


def _datetime_out(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise GraphQLError(f"DateTime cannot represent {value!r}")


def _datetime_in(value: object) -> datetime:
    if isinstance(value, str) and len(value) <= 40:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            # Without an offset a date-time is taken as UTC, as in the REST system's feed.
            return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
    raise GraphQLError("DateTime must be an ISO 8601 string such as 2025-01-31T08:00:00+07:00")


def _literal(coerce: Callable[[object], Any]) -> Callable[[ConstValueNode], Any]:
    def coerce_literal(node: ConstValueNode) -> Any:
        if isinstance(node, StringValueNode):
            return coerce(node.value)
        raise GraphQLError("expected a string literal")

    return coerce_literal


DateScalar = GraphQLScalarType(
    "Date", description="A calendar date, ISO 8601 (YYYY-MM-DD).",
    coerce_output_value=_date_out, coerce_input_value=_date_in,
    coerce_input_literal=_literal(_date_in))
DateTimeScalar = GraphQLScalarType(
    "DateTime", description="A date-time with UTC offset, ISO 8601.",
    coerce_output_value=_datetime_out, coerce_input_value=_datetime_in,
    coerce_input_literal=_literal(_datetime_in))


def _non_null(type_: Any) -> GraphQLNonNull[Any]:
    return GraphQLNonNull(type_)


JobTitle = GraphQLObjectType("JobTitle", {
    "code": GraphQLField(_non_null(GraphQLString)),
    "label": GraphQLField(_non_null(GraphQLString)),
})

StaffDiscipline = GraphQLObjectType("StaffDiscipline", {
    "decisionNumber": GraphQLField(_non_null(GraphQLString)),
    "decidedOn": GraphQLField(_non_null(DateScalar)),
    "form": GraphQLField(_non_null(GraphQLString),
                         description="The national discipline form code (reprimand, ...)."),
    "issuer": GraphQLField(_non_null(GraphQLString)),
    "reason": GraphQLField(_non_null(GraphQLString)),
    "effectiveFrom": GraphQLField(_non_null(DateScalar)),
    "effectiveTo": GraphQLField(DateScalar),
})

Staff = GraphQLObjectType("Staff", {
    "staffId": GraphQLField(_non_null(GraphQLID)),
    "citizenId": GraphQLField(_non_null(GraphQLString)),
    "name": GraphQLField(_non_null(GraphQLString)),
    "dob": GraphQLField(_non_null(DateScalar)),
    "gender": GraphQLField(_non_null(GraphQLString)),
    "orgCode": GraphQLField(_non_null(GraphQLString)),
    "department": GraphQLField(_non_null(GraphQLString)),
    "jobTitle": GraphQLField(_non_null(JobTitle)),
    "grade": GraphQLField(_non_null(GraphQLString)),
    "payStep": GraphQLField(_non_null(GraphQLInt)),
    "payCoefficient": GraphQLField(_non_null(GraphQLFloat)),
    "pendingDiscipline": GraphQLField(GraphQLString),
    "address": GraphQLField(_non_null(GraphQLString)),
    "hiredOn": GraphQLField(_non_null(DateScalar)),
    "disciplines": GraphQLField(_non_null(GraphQLList(_non_null(StaffDiscipline)))),
    "modifiedAt": GraphQLField(
        _non_null(DateTimeScalar),
        description="The record's last change, its discipline decisions included."),
})

StaffPage = GraphQLObjectType("StaffPage", {
    "nodes": GraphQLField(_non_null(GraphQLList(_non_null(Staff)))),
    "endCursor": GraphQLField(GraphQLString),
    "hasMore": GraphQLField(_non_null(GraphQLBoolean)),
})


def build_schema(*, staff_by_citizen_ids: Resolver, staff_member: Resolver,
                 staff_changes: Resolver) -> GraphQLSchema:
    query = GraphQLObjectType("Query", {
        "staffByCitizenIds": GraphQLField(
            _non_null(GraphQLList(_non_null(Staff))),
            args={"ids": GraphQLArgument(_non_null(GraphQLList(_non_null(GraphQLString))))},
            resolve=staff_by_citizen_ids),
        "staffMember": GraphQLField(
            Staff, args={"citizenId": GraphQLArgument(_non_null(GraphQLString),
                                                      out_name="citizen_id")},
            resolve=staff_member),
        "staffChanges": GraphQLField(
            _non_null(StaffPage),
            args={"since": GraphQLArgument(_non_null(DateTimeScalar)),
                  "first": GraphQLArgument(GraphQLInt, default_value=DEFAULT_PAGE),
                  "after": GraphQLArgument(GraphQLString)},
            resolve=staff_changes),
    })
    return GraphQLSchema(query=query)
