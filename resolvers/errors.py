"""Errors a resolver raises on purpose, each with its code from DESIGN.md §8."""

from __future__ import annotations

from typing import Any, ClassVar

from graphql import GraphQLError

__all__ = ["BadUserInput", "HubError", "NotFound"]


class HubError(GraphQLError):
    code: ClassVar[str] = "INTERNAL"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": self.code, **extensions})


class BadUserInput(HubError):
    code = "BAD_USER_INPUT"


class NotFound(HubError):
    code = "NOT_FOUND"
