"""Failures of a source system, as the rest of the hub sees them.

Adapters translate every transport, protocol and database failure into one of these, naming the
source, so a resolver can null exactly the fields that source owns and say which one failed.
Messages are written for API clients: no SQL, no stack traces, no internal addresses.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = ["SourceError", "SourceTimeout", "SourceUnavailable"]


class SourceError(Exception):
    code: ClassVar[str] = "SOURCE_UNAVAILABLE"

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.message = message


class SourceUnavailable(SourceError):
    """The source refused, failed or answered something unusable."""

    code = "SOURCE_UNAVAILABLE"


class SourceTimeout(SourceError):
    """The source did not answer within its time budget."""

    code = "SOURCE_TIMEOUT"
