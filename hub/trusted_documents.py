"""Trusted documents (persisted queries): the operations a client's system runs, registered
in its policy file (``documents``), named in a request by id instead of sent as text.

A request names one with ``documentId: "sha256:<hex>"`` or, as Apollo clients do,
``extensions.persistedQuery.sha256Hash``; the id is the SHA-256 of the document's text
(``hub policy documents`` lists them). A client whose policy says ``required: true`` may run
its registered documents only: any other text is refused, so a stolen token cannot be used to
ask anything its system never asks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hub.policy.model import ClientPolicy, document_id

__all__ = ["named_document", "trusted_text"]

_ID = re.compile(r"sha256:[0-9a-f]{64}")
_HEX = re.compile(r"[0-9a-f]{64}")


def named_document(payload: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The trusted document a request names (or None), and what is wrong with how it names
    it (or None)."""
    given = payload.get("documentId")
    if given is not None and (not isinstance(given, str) or not _ID.fullmatch(given)):
        return None, "`documentId` must be \"sha256:\" and 64 lower-case hex digits"
    extensions = payload.get("extensions")
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    if persisted is not None:
        digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if not isinstance(digest, str) or not _HEX.fullmatch(digest):
            return None, "`extensions.persistedQuery.sha256Hash` must be 64 lower-case hex " \
                         "digits"
        if given is not None and given != f"sha256:{digest}":
            return None, "`documentId` and `extensions.persistedQuery` name two documents"
        given = f"sha256:{digest}"
    return given, None


def trusted_text(client: ClientPolicy, named: str | None, query: str | None
                 ) -> tuple[str | None, tuple[int, str, str] | None]:
    """The text to run, or a refusal (HTTP status, message, code): a named document must be
    one of the client's (and match the text, when the text is sent too); with documents
    required, the text sent must be one of them."""
    if named is not None:
        text = client.documents.get(named)
        if text is None:
            return None, (400, f"client {client.client_id} has no trusted document {named}",
                          "NOT_FOUND")
        if query is not None and document_id(query) != named:
            return None, (400, f"the query sent is not the trusted document {named}",
                          "BAD_USER_INPUT")
        return text, None
    if client.documents_required and (query is None
                                      or document_id(query) not in client.documents):
        return None, (403, f"client {client.client_id} may run its trusted documents only: "
                           "name one with `documentId` (see `hub policy documents`)",
                      "FORBIDDEN")
    return query, None
