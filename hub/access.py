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

from hub.auth.routes import bearer_challenge
from hub.auth.verifier import AuthenticationError, VerifiedToken
from hub.policy.compile import ClientView, Refusal
from hub.policy.store import PolicyStore
from hub.rate_limits import LocalRateLimiter, Rate, RateLimiter, retry_after_header
from resolvers.context import Caller

__all__ = ["PURPOSE_HEADER", "Access", "AccessControl", "Denied"]

PURPOSE_HEADER = "x-purpose"
# The same rule as purpose names in policy files (policies/policy.schema.json, "identifier").
_PURPOSE = re.compile(r"[a-z][a-z0-9-]{1,62}")


@dataclass(frozen=True, slots=True)
class Access:
    caller: Caller
    view: ClientView


class Denied(Exception):
    """The request is refused before GraphQL: ``status`` 401 or 403, a code from DESIGN.md
    §8, and a message that says what to fix."""

    def __init__(self, status: int, code: str, message: str,
                 headers: Mapping[str, str] | None = None, *,
                 client_id: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        # The authenticated client refused (a 403) and the purpose it declared, for the
        # audit record; None for a 401.
        self.client_id = client_id
        self.purpose: str | None = None


Authenticate = Callable[[str | None], Awaitable[VerifiedToken]]


def _declared_purpose(headers: Mapping[str, str],
                      extensions: Mapping[str, Any] | None) -> str | None:
    from_header = headers.get(PURPOSE_HEADER)
    from_body = extensions.get("purpose") if extensions is not None else None
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
    """``limiter`` and ``default_rate``: the rate limit a client is held to when its policy
    sets none (None: no limit)."""

    def __init__(self, authenticate: Authenticate, policies: PolicyStore, *,
                 limiter: RateLimiter | None = None, default_rate: Rate | None = None
                 ) -> None:
        self._authenticate = authenticate
        self._policies = policies
        self.limiter: RateLimiter = limiter or LocalRateLimiter()
        self._default_rate = default_rate

    def rate_of(self, client_id: str) -> Rate | None:
        """The rate limit a client is held to: its policy's, else the hub's default."""
        client = self._policies.engine.policies.clients.get(client_id)
        limits = client.limits if client is not None else None
        if limits is not None and limits.requests_per_minute is not None:
            return Rate(limits.requests_per_minute, limits.burst or 1)
        return self._default_rate

    async def _within_rate(self, client_id: str) -> None:
        """Counts the request against the client's allowance; RATE_LIMITED (429) beyond it,
        before anything else is looked at."""
        rate = self.rate_of(client_id)
        if rate is None:
            return
        verdict = await self.limiter.take(client_id, rate)
        if not verdict.allowed:
            wait = retry_after_header(verdict)
            raise Denied(429, "RATE_LIMITED",
                         f"client {client_id} is limited to {rate.per_minute} requests a "
                         f"minute ({rate.burst} at once): retry after {wait} s",
                         {"retry-after": wait}, client_id=client_id)

    async def identify(self, headers: Mapping[str, str]) -> str | None:
        """The client a request's token names, if the token is valid (for recording a
        request refused before admission, such as a malformed body)."""
        try:
            return (await self._authenticate(headers.get("authorization"))).client_id
        except AuthenticationError:
            return None

    async def admit(self, headers: Mapping[str, str],
                    extensions: Mapping[str, Any] | None) -> Access:
        try:
            token = await self._authenticate(headers.get("authorization"))
        except AuthenticationError as error:
            raise Denied(401, "UNAUTHENTICATED", error.message,
                         {"www-authenticate": bearer_challenge(error)}) from None
        await self._within_rate(token.client_id)
        try:
            purpose = _declared_purpose(headers, extensions)
        except Denied as denied:
            denied.client_id = token.client_id
            raise
        if token.purpose is not None:
            if purpose is None:
                purpose = token.purpose
            elif purpose != token.purpose:
                mismatch = Denied(403, "FORBIDDEN", f"the token was issued for purpose "
                                                    f"{token.purpose}, not {purpose}",
                                  client_id=token.client_id)
                mismatch.purpose = purpose
                raise mismatch
        try:
            view = self._policies.engine.view(token.client_id, purpose)
        except Refusal as refusal:
            refused = Denied(403, "FORBIDDEN", str(refusal), client_id=token.client_id)
            refused.purpose = purpose
            raise refused from None
        caller = Caller(client_id=token.client_id, agency_code=view.client.agency,
                        purpose=purpose)
        return Access(caller, view)
