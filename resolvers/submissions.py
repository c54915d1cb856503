"""The seam between the mutations and the hub's submission desk.

Resolvers know nothing of signatures, keys or policies: a mutation hands the signed change to
the desk the request context carries, and turns its decision into the answer. The desk (in
``hub.updates``) verifies the signature, the submitter's authority and the data, and writes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Protocol

from adapters.submission_store import Decision

__all__ = ["MAX_SUBMISSION_CHARS", "SubmissionDesk"]

# A signed change is a few kilobytes; a bulk file goes through `hub submit`, not one mutation.
MAX_SUBMISSION_CHARS = 256 * 1024


class SubmissionDesk(Protocol):
    async def submit(self, context: Any, kind: str, submission: str, idempotency_key: str,
                     employee_signature: str | None, *,
                     resubmission_of: uuid.UUID | None = None) -> Decision:
        """Decide on one signed change of ``kind`` for the caller in ``context``: accepted
        and written, or rejected with reasons; both kept. A retry with the same idempotency
        key gets the first decision; the key reused for another request raises
        ``KeyReused``. ``resubmission_of``: the caller's rejected submission this one
        corrects (else it is rejected, RESUBMISSION_INVALID)."""
        ...

    async def submit_many(self, context: Any,
                          items: Sequence[tuple[str, str, str, str | None]], *,
                          resubmission_of: Sequence[uuid.UUID | None] | None = None
                          ) -> list[Decision]:
        """Decide each (kind, submission, idempotency key, employee signature) in order, as
        if sent alone, all under one new batch id; the decisions in the same order. Raises
        ``KeyReused`` (naming the item, nothing decided) for an item reusing a key for
        another request."""
        ...
