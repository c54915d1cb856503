"""Straight-line builder functions for object plans: the hot loop of the plan executor.

Building a response object field by field in a generic loop costs a few branches and calls
per field. For each distinct plan shape this module generates one function that reads each
leaf from the row and checks its type inline (a string is a string, an enum value is a key of
its name table...), so the common case is a dictionary read and a type test. Anything else —
nulls, errors, links, nested objects, lists, values needing coercion — takes the generic path
(``PlanRun.field_value``), which is also what decides correctness; the differential test holds
both to graphql-core's answers.

No text from a query reaches the generated source: response keys and row names are bound as
default arguments from tuples, and the source is built only from field positions.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLNonNull,
    GraphQLString,
)

from resolvers.plan.compile import FieldKind, FieldPlan, ObjectPlan

__all__ = ["Builder", "builder_for"]

Builder = Callable[[Any, Any, Any, list[FieldPlan]], dict[str, Any]]

# Int and Float are not here: a value of the right class may still be out of range (Int is
# 32-bit) or not finite, so they take the checked serializer.
_EXACT_TYPES: dict[object, type] = {GraphQLString: str, GraphQLID: str, GraphQLBoolean: bool}
_CACHE: OrderedDict[tuple[Any, ...], Builder] = OrderedDict()
_CACHE_SIZE = 2_048


def _named(field: FieldPlan) -> Any:
    assert field.field_def is not None
    type_ = field.field_def.type
    return type_.of_type if isinstance(type_, GraphQLNonNull) else type_


def _leaf_kind(field: FieldPlan) -> tuple[str, Any]:
    """How a leaf can be written inline: ('exact', type), ('enum', names), ('iso', class)."""
    if field.kind is not FieldKind.VALUE or field.is_list or field.serialize is None:
        return "slow", None
    if field.serialize is not None and _named(field).name in ("Int", "Float"):
        return "call", None
    named = _named(field)
    exact = _EXACT_TYPES.get(named)
    if exact is not None:
        return "exact", exact
    if isinstance(named, GraphQLEnumType):
        return "enum", named
    if named.name in ("PersonalId",):
        return "exact", str
    if named.name == "Date":
        return "iso", date
    if named.name == "DateTime":
        return "iso", datetime
    return "slow", None


def _signature(plan: ObjectPlan) -> tuple[Any, ...]:
    parts: list[Any] = [plan.type_name]
    for field in plan.fields:
        kind, detail = _leaf_kind(field)
        # Keys, row names, enum types and serializers are part of the shape: they are bound
        # into the generated function.
        parts.append((field.key, field.name, kind, detail, field.nullable, field.serialize))
    return tuple(parts)


def _generate(plan: ObjectPlan) -> Builder:
    keys = tuple(f.key for f in plan.fields)
    names = tuple(f.name for f in plan.fields)
    constants: dict[str, Any] = {"K": keys, "N": names,
                                 "S": tuple(f.serialize for f in plan.fields)}
    params = []
    lines = []
    for index, field in enumerate(plan.fields):
        kind, detail = _leaf_kind(field)
        params.append(f"_k{index}=K[{index}]")
        slow = f"run.field_value(fields[{index}], obj, path)"
        if kind == "slow":
            lines.append(f"    out[_k{index}] = {slow}")
            continue
        if kind == "call":  # the field's own checked serializer, then the generic path
            params.append(f"_n{index}=N[{index}]")
            params.append(f"_s{index}=S[{index}]")
            lines += [f"    v = obj.get(_n{index})",
                      "    if v is None:",
                      f"        out[_k{index}] = {'None' if field.nullable else slow}",
                      "    else:",
                      "        try:",
                      f"            out[_k{index}] = _s{index}(v)",
                      "        except Exception:",
                      f"            out[_k{index}] = {slow}"]
            continue
        params.append(f"_n{index}=N[{index}]")
        lines.append(f"    v = obj.get(_n{index})")
        if kind == "exact":
            constants[f"T{index}"] = detail
            fast = f"v if v.__class__ is T{index}"
        elif kind == "iso":
            constants[f"T{index}"] = detail
            fast = f"v.isoformat() if v.__class__ is T{index}"
        else:
            constants[f"E{index}"] = {value.value: name for name, value in detail.values.items()}
            lines.append(f"    e = E{index}.get(v) if v.__class__ is str else None")
            fast = "e if e is not None"
        null = " else None if v is None" if field.nullable else ""
        lines.append(f"    out[_k{index}] = {fast}{null} else {slow}")
    source = (f"def build(obj, path, run, fields, {', '.join(params)}):\n"
              "    out = {}\n" + "\n".join(lines) + "\n    return out\n")
    namespace = dict(constants)
    exec(compile(source, f"<plan builder {plan.type_name}>", "exec"), namespace)  # noqa: S102
    builder: Builder = namespace["build"]
    return builder


def builder_for(plan: ObjectPlan) -> Builder:
    signature = _signature(plan)
    builder = _CACHE.get(signature)
    if builder is None:
        builder = _CACHE[signature] = _generate(plan)
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return builder
