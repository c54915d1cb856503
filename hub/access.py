"""Admitting a request: who is calling (the bearer token), for which purpose, and so with
which view — the client's own schema and grants.

Everything here happens before any GraphQL work: a request without a valid token is a 401,
one without a declared purpose its policy allows is a 403, and neither reaches the parser.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hub.policy import ClientView, Refusal
from hub.policy.store import PolicyStore
from resolvers.context import Caller

__all__ = ["END_USER_HEADER", "PURPOSE_HEADER", "Access", "AccessControl", "Denied"]

PURPOSE_HEADER = "x-purpose"
END_USER_HEADER = "x-end-user"
_PURPOSE = re.compile(r"[a-z][a-z0-9-]{1,62}")
_MAX_END_USER = 128


@dataclass(frozen=True, slots=True)
class Access:
    caller: Caller
    view: ClientView


class Denied(Exception):
    """The request is refused before GraphQL: ``status`` 401 or 403, a code from §8, and a
    message that says what to fix."""

    def __init__(self, status: int, code: str, message: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


@dataclass(frozen=True, slots=True)
class Identity:
    """What a verified token says about its bearer."""

    client_id: str
    purpose: str | None  # the purpose the token was issued for, if any


Authenticate = Callable[[str | None], Awaitable[Identity]]


def _bearer_challenge(message: str, *, token_given: bool) -> dict[str, str]:
    # RFC 6750 §3: no error code when no credentials were sent at all.
    quoted = message.replace("\\", "\\\\").replace('"', "'")
    if not token_given:
        return {"www-authenticate": 'Bearer realm="hub"'}
    return {"www-authenticate":
            f'Bearer realm="hub", error="invalid_token", error_description="{quoted}"'}


def _declared_purpose(headers: Mapping[str, str], extensions: Any) -> str | None:
    from_header = headers.get(PURPOSE_HEADER)
    from_body = extensions.get("purpose") if isinstance(extensions, dict) else None
    if from_body is not None and not isinstance(from_body, str):
        raise Denied(403, "FORBIDDEN", "`extensions.purpose` must be a string")
    if from_header is not None and from_body is not None and from_header != from_body:
        raise Denied(403, "FORBIDDEN", "two different purposes declared (header and "
                                       "extensions): declare one")
    purpose = from_header if from_header is not None else from_body
    if purpose is not None and not _PURPOSE.fullmatch(purpose):
        raise Denied(403, "FORBIDDEN", "the declared purpose is not a purpose name "
                                       "(lower-case letters, digits and hyphens)")
    return purpose


class AccessControl:
    def __init__(self, authenticate: Authenticate, policies: PolicyStore,
                 is_auth_error: Callable[[Exception], bool]) -> None:
        self._authenticate = authenticate
        self._policies = policies
        self._is_auth_error = is_auth_error

    async def admit(self, headers: Mapping[str, str], extensions: Any) -> Access:
        authorization = headers.get("authorization")
        try:
            identity = await self._authenticate(authorization)
        except Exception as error:
            if not self._is_auth_error(error):
                raise
            raise Denied(401, "UNAUTHENTICATED", str(error),
                         _bearer_challenge(str(error), token_given=bool(authorization))
                         ) from None
        purpose = _declared_purpose(headers, extensions)
        if identity.purpose is not None:
            if purpose is None:
                purpose = identity.purpose
            elif purpose != identity.purpose:
                raise Denied(403, "FORBIDDEN", f"the token was issued for purpose "
                                               f"{identity.purpose}, not {purpose}")
        try:
            view = self._policies.engine.view(identity.client_id, purpose)
        except Refusal as refusal:
            raise Denied(403, "FORBIDDEN", str(refusal)) from None
        end_user = headers.get(END_USER_HEADER)
        if end_user is not None and (len(end_user) > _MAX_END_USER
                                     or not end_user.isprintable()):
            raise Denied(403, "FORBIDDEN", f"`{END_USER_HEADER}` must be at most "
                                           f"{_MAX_END_USER} printable characters")
        caller = Caller(client_id=identity.client_id, agency_code=view.client.agency,
                        purpose=purpose, end_user=end_user)
        return Access(caller, view)
