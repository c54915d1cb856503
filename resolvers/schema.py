"""The GraphQL schema, assembled from the domain types."""

from __future__ import annotations

import strawberry
from strawberry.schema.config import StrawberryConfig

from resolvers.mutations import Mutation
from resolvers.query import Query
from resolvers.scalars import SCALARS

__all__ = ["build_schema"]


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        config=StrawberryConfig(
            # Objects are dicts shaped by the loaders: leaves are C-level dict reads.
            default_resolver=dict.get,
            # "Did you mean ..." would name fields a client may not be granted.
            disable_field_suggestions=True,
            scalar_map=SCALARS,
        ),
    )
