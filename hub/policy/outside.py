"""Which fields (and arguments) a document names that a client's schema lacks: its denials.

A forbidden field fails validation like a missing one (the client's schema has no such
field), so validation errors cannot tell "outside your grants" from "no such field". Walking
the document over the full schema can: a field the full schema has and the view does not
show is one the policy denies. ``hub policy test`` checks expected denials with it, and the
audit log records them (with the arguments and input fields the view lacks, such as a filter
or a cursor that would reveal an ungranted field).
"""

from __future__ import annotations

from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLSchema,
    ObjectFieldNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    visit,
)
from graphql.language import SKIP

from hub.policy.compile import ClientView

__all__ = ["fields_outside", "names_outside"]


def fields_outside(view: ClientView, document: DocumentNode, full: GraphQLSchema) -> set[str]:
    """The fields the document names that the client's schema lacks, as ``Type.field``. Not
    looking below such a field: nothing there can be typed for the client, and validation
    says nothing of it either."""
    return _walk(view, document, full, arguments=False)


def names_outside(view: ClientView, document: DocumentNode, full: GraphQLSchema) -> set[str]:
    """``fields_outside``, plus arguments (``Type.field(argument)``) and input fields
    (``Input.field``) the client's schema lacks."""
    return _walk(view, document, full, arguments=True)


def _walk(view: ClientView, document: DocumentNode, full: GraphQLSchema, *,
          arguments: bool) -> set[str]:
    type_info = TypeInfo(full)
    own = view.schema
    outside: set[str] = set()
    fields: list[str] = []  # the field each argument belongs to, innermost last

    class Collect(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> Any:
            parent = type_info.get_parent_type()
            name = node.name.value
            if (isinstance(parent, GraphQLObjectType) and name in parent.fields
                    and not view.shows(parent.name, name)):
                outside.add(f"{parent.name}.{name}")
                return SKIP
            fields.append(f"{getattr(parent, 'name', '?')}.{name}")
            return None

        def leave_field(self, *_: Any) -> None:
            fields.pop()

        def enter_argument(self, node: ArgumentNode, *_: Any) -> Any:
            if (not arguments or not fields or type_info.get_argument() is None
                    or type_info.get_directive() is not None):  # @include(if:) is no field's
                return None
            type_name, field_name = fields[-1].split(".", 1)
            own_field = getattr(own.get_type(type_name), "fields", {}).get(field_name)
            if own_field is not None and node.name.value not in own_field.args:
                outside.add(f"{fields[-1]}({node.name.value})")
                return SKIP
            return None

        def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> Any:
            parent = type_info.get_parent_input_type()
            if (not arguments or not isinstance(parent, GraphQLInputObjectType)
                    or node.name.value not in parent.fields):
                return None
            if node.name.value not in getattr(own.get_type(parent.name), "fields", {}):
                outside.add(f"{parent.name}.{node.name.value}")
                return SKIP
            return None

    visit(document, TypeInfoVisitor(type_info, Collect()))
    return outside
