"""Which fields a document names that a client's schema lacks: its denials.

A forbidden field fails validation like a missing one (the client's schema has no such
field), so validation errors cannot tell "outside your grants" from "no such field". Walking
the document over the full schema can: a field the full schema has and the view does not
show is one the policy denies. ``hub policy test`` checks expected denials with it, and the
audit log records them.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLObjectType,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    visit,
)
from graphql.language import SKIP

from hub.policy.compile import ClientView

__all__ = ["fields_outside"]


def fields_outside(view: ClientView, document: DocumentNode, full: GraphQLSchema) -> set[str]:
    """The fields the document names that the client's schema lacks, as ``Type.field``. Not
    looking below such a field: nothing there can be typed for the client, and validation
    says nothing of it either."""
    type_info = TypeInfo(full)
    outside: set[str] = set()

    class Collect(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> Any:
            parent = type_info.get_parent_type()
            name = node.name.value
            if (isinstance(parent, GraphQLObjectType) and name in parent.fields
                    and not view.shows(parent.name, name)):
                outside.add(f"{parent.name}.{name}")
                return SKIP
            return None

    visit(document, TypeInfoVisitor(type_info, Collect()))
    return outside
