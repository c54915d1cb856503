"""The token endpoint: Authlib's framework-agnostic authorization server, client credentials only.

Authlib's server is synchronous; the Starlette route (``hub.auth.routes``) reads and bounds the
body, then calls ``TokenServer.respond`` in a worker thread. Everything the server consults from
that thread is thread-safe without locks: the client registry is a dict read, the signing keys
an immutable state, and the one database write (an assertion's ``jti``) goes back to the event
loop through the ``claim_jti`` callback.

Client authentication: ``client_secret_basic`` (the secret checked against its scrypt hash) and
``private_key_jwt`` (RFC 7523, Authlib's ``JWTBearerClientAssertion``, which verifies with
joserfc). Revoked clients authenticate and are then refused, so a wrong secret is reported as
such even for a revoked client.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import orjson
from authlib.oauth2.rfc6749 import (  # type: ignore[import-untyped]
    AuthorizationServer,
    ClientCredentialsGrant,
    ClientMixin,
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Request,
    UnsupportedGrantTypeError,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload  # type: ignore[import-untyped]
from authlib.oauth2.rfc6749.util import (  # type: ignore[import-untyped]
    extract_basic_authorization,
)
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import KeySet
from starlette.responses import Response

from hub.auth.clients import ClientRecord, public_key_set
from hub.auth.keys import SigningKeys
from hub.auth.minting import mint_token
from hub.auth.registry import ClientRegistry
from hub.auth.secret_hash import hash_secret, verify_secret
from hub.auth.settings import AuthSettings

__all__ = ["ASSERTION_ALGORITHMS", "AUTH_METHODS", "MAX_FORM_BYTES", "TokenServer"]

log = logging.getLogger(__name__)

AUTH_METHODS = ("client_secret_basic", "private_key_jwt")
#: Algorithms a client may sign its assertion with: asymmetric only (the hub keeps no shared
#: secret that could be used as an HMAC key).
ASSERTION_ALGORITHMS = ("ES256", "ES384", "PS256", "RS256", "Ed25519")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_FORM_BYTES = 16 * 1024
_MAX_FORM_FIELDS = 32
#: An assertion is meant for one request: its "exp" may be at most this far ahead, which also
#: bounds how long its "jti" must be remembered.
_MAX_ASSERTION_LIFETIME = 3600
# Purposes are echoed in error descriptions only when they are plain names (RFC 6749 limits
# error_description to printable ASCII without '"' and '\').
_PRINTABLE_NAME = re.compile(r"[A-Za-z0-9._:/-]{1,64}")

ClaimJti = Callable[[str, str, float], bool]
PurposesOf = Callable[[str], frozenset[str]]


class _Client(ClientMixin):  # type: ignore[misc]
    """Authlib's view of a registered client."""

    def __init__(self, record: ClientRecord) -> None:
        self.record = record

    def get_client_id(self) -> str:
        return self.record.client_id

    def check_client_secret(self, client_secret: str) -> bool:
        return self.record.check_secret(client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in self.record.auth_methods

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


class _TokenRequest(OAuth2Request):  # type: ignore[misc]
    def __init__(self, uri: str, headers: Mapping[str, str], form: dict[str, str]) -> None:
        super().__init__("POST", uri, headers=headers)
        self._form = form
        self.payload = BasicOAuth2Payload(form)

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return {}


@dataclass(frozen=True, slots=True)
class _RequestData:
    headers: Mapping[str, str]
    form: dict[str, str]


def _authenticate_basic(query_client: Callable[[str], _Client | None],
                        request: _TokenRequest) -> _Client | None:
    """client_secret_basic, with an error that says what is wrong (Authlib's own method
    reports every failure as "cannot authenticate")."""
    if not request.headers.get("Authorization"):
        return None
    client_id, secret = extract_basic_authorization(request.headers)
    if not client_id or not secret:
        raise InvalidClientError(status_code=401,
                                 description="malformed HTTP Basic client credentials")
    client = query_client(client_id)
    if client is None or client.record.secret_hash is None:
        # The same answer, after the same work, as a wrong secret: the token endpoint must not
        # tell which client ids exist (or how they authenticate).
        verify_secret(secret, _decoy_hash())
        raise InvalidClientError(status_code=401, description=_BAD_CREDENTIALS)
    if not client.check_client_secret(secret):
        raise InvalidClientError(status_code=401, description=_BAD_CREDENTIALS)
    return client


_BAD_CREDENTIALS = "unknown client or wrong client secret"
_BAD_ASSERTION = "client assertion not signed by a registered key of the client"


@cache
def _decoy_hash() -> str:
    return hash_secret(secrets.token_urlsafe(24))


class _PrivateKeyJWT(JWTBearerClientAssertion):  # type: ignore[misc]
    """RFC 7523 client authentication against the client's registered public keys."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, audiences: list[str], leeway: int, claim_jti: ClaimJti) -> None:
        super().__init__(validate_jti=True, leeway=leeway)
        self._audiences = audiences
        self._claim_jti = claim_jti

    def get_audiences(self) -> list[str]:
        return self._audiences

    def __call__(self, query_client: Callable[[str], _Client | None],
                 request: _TokenRequest) -> _Client | None:
        # An assertion naming an unknown client gets the answer a bad signature gets: the
        # token endpoint must not tell which client ids exist.
        def known_with_keys(client_id: str) -> _Client | None:
            client = query_client(client_id)
            if client is None or client.record.jwks is None:
                raise InvalidClientError(description=_BAD_ASSERTION)
            return client

        result: _Client | None = super().__call__(known_with_keys, request)
        return result

    def resolve_client_public_key(self, client: _Client) -> KeySet:
        assert client.record.jwks is not None  # known_with_keys let only such clients through
        return public_key_set(client.record.jwks)

    def process_assertion_claims(self, assertion: str, resolve_key: KeySet) -> dict[str, Any]:
        # As Authlib's, with the algorithms pinned: never an HMAC or "none" assertion.
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=list(ASSERTION_ALGORITHMS))
        except BadSignatureError:
            raise InvalidClientError(description=_BAD_ASSERTION) from None
        except JoseError as error:
            raise InvalidClientError(description=(
                f"client assertion rejected: {_printable(error.description or error.error)}"
            )) from None
        except (ValueError, TypeError):
            raise InvalidClientError(description="client assertion rejected: malformed") from None
        self.verify_claims(token.claims)
        claims: dict[str, Any] = token.claims
        return claims

    def verify_claims(self, claims: dict[str, Any]) -> None:
        exp = claims.get("exp")
        iat = claims.get("iat")
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            start = iat if isinstance(iat, int | float) and not isinstance(iat, bool) else None
            now = time.time()
            if exp - max(now, start or now) > _MAX_ASSERTION_LIFETIME:
                raise InvalidClientError(description=(
                    f"client assertion lifetime exceeds {_MAX_ASSERTION_LIFETIME} seconds"))
        super().verify_claims(claims)

    def validate_jti(self, claims: dict[str, Any], jti: object) -> bool:
        if not isinstance(jti, str) or not 0 < len(jti) <= 256:
            raise InvalidClientError(description="client assertion jti must be 1 to 256 "
                                                 "characters")
        # Remembered until the assertion cannot pass its expiry check any more.
        return self._claim_jti(claims["sub"], jti, float(claims["exp"]) + self.leeway)


class _ClientCredentials(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = list(AUTH_METHODS)

    server: TokenServer

    def validate_token_request(self) -> None:
        client: _Client = self.authenticate_token_endpoint_client()
        record = client.record
        form = self.request.form
        if record.revoked:
            raise InvalidClientError(status_code=401, description="client revoked")
        if form.get("client_id") not in (None, record.client_id):
            raise InvalidClientError(status_code=401, description=(
                "client_id does not match the authenticated client"))
        if form.get("scope"):
            raise InvalidScopeError(description=(
                "this server grants no scopes: name a purpose of use instead"))
        purpose = form.get("purpose")
        if purpose is not None:
            self.server.check_purpose(record.client_id, purpose)
        self.request.client = client

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        token = self.server.mint(self.request.client.record.client_id,
                                 self.request.form.get("purpose"))
        return 200, token, self.TOKEN_RESPONSE_HEADER


def _json_response(status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
    response = Response(orjson.dumps(body), status_code=status, media_type="application/json")
    for name, value in headers:
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


class TokenServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, settings: AuthSettings, keys: SigningKeys, registry: ClientRegistry,
                 purposes_of: PurposesOf, claim_jti: ClaimJti) -> None:
        super().__init__()
        self.settings = settings
        self.keys = keys
        self.registry = registry
        self.purposes_of = purposes_of
        self.register_grant(_ClientCredentials)
        self.register_client_auth_method("client_secret_basic", _authenticate_basic)
        self.register_client_auth_method("private_key_jwt", _PrivateKeyJWT(
            [settings.token_endpoint, settings.issuer], settings.leeway_seconds, claim_jti))

    # -- Authlib's hooks -----------------------------------------------------------------------

    def query_client(self, client_id: str) -> _Client | None:
        record = self.registry.get(client_id)
        return _Client(record) if record is not None else None

    def save_token(self, token: dict[str, Any], request: _TokenRequest) -> None:
        """Access tokens are self-contained JWTs: nothing to store."""

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signal system here."""

    def create_oauth2_request(self, request: _RequestData) -> _TokenRequest:
        # The canonical endpoint URL, not the one the request arrived at: behind a TLS proxy
        # the latter would be plain http, which Authlib rejects.
        return _TokenRequest(self.settings.token_endpoint, request.headers, request.form)

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]
                        ) -> Response:
        return _json_response(status, body, headers)

    def handle_error_response(self, request: _TokenRequest | None, error: OAuth2Error
                              ) -> Response:
        if isinstance(error, InvalidClientError):
            # RFC 6749 §5.2 requires 401 when the client tried HTTP Basic; answering 401 to
            # every failed client authentication keeps one rule for clients to follow.
            error.status_code = 401
        response: Response = super().handle_error_response(request, error)
        return response

    # -- used by the grant ---------------------------------------------------------------------

    def check_purpose(self, client_id: str, purpose: str) -> None:
        if purpose in self.purposes_of(client_id):
            return
        shown = f"'{purpose}' " if _PRINTABLE_NAME.fullmatch(purpose) else ""
        raise InvalidRequestError(description=(
            f"purpose {shown}is not a declared purpose of client '{client_id}'"))

    def mint(self, client_id: str, purpose: str | None) -> dict[str, Any]:
        lifetime = self.settings.token_lifetime_seconds
        return {"access_token": mint_token(self.keys, self.settings, client_id, purpose,
                                           lifetime),
                "token_type": "Bearer", "expires_in": lifetime}

    # -- the entry point -----------------------------------------------------------------------

    def respond(self, headers: Mapping[str, str], content_type: str | None,
                body: bytes | None) -> Response:
        """Answer one token request. ``body`` is None when it exceeded MAX_FORM_BYTES."""
        try:
            form = _parse_form(content_type, body)
            _precheck(headers, form)
        except OAuth2Error as error:
            return self.handle_error_response(None, error)
        response: Response = self.create_token_response(_RequestData(headers, form))
        return response


def _printable(text: str | None) -> str:
    """Text fit for error_description (RFC 6749 §5.2: printable ASCII without '"' and '\\')."""
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in text or "")[:200]


def _looks_like_jws(value: str) -> bool:
    segments = value.split(".")
    if len(segments) != 3:
        return False
    try:
        header = json.loads(base64.urlsafe_b64decode(segments[0] + "=" * (-len(segments[0]) % 4)))
    except (ValueError, RecursionError):
        return False
    return isinstance(header, dict) and isinstance(header.get("alg"), str)


def _parse_form(content_type: str | None, body: bytes | None) -> dict[str, str]:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise InvalidRequestError(description=(
            "a token request is a form: Content-Type application/x-www-form-urlencoded"))
    if body is None:
        raise InvalidRequestError(description=f"the form exceeds {MAX_FORM_BYTES} bytes")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True,
                          max_num_fields=_MAX_FORM_FIELDS)
    except ValueError:  # includes UnicodeDecodeError
        raise InvalidRequestError(description="the form body cannot be decoded") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            # RFC 6749 §3.2: request parameters must not be repeated.
            shown = f" '{name}'" if _PRINTABLE_NAME.fullmatch(name) else ""
            raise InvalidRequestError(description=f"parameter{shown} is repeated")
        form[name] = value
    return form


def _precheck(headers: Mapping[str, str], form: dict[str, str]) -> None:
    """What Authlib would answer vaguely or not at all, answered precisely."""
    grant_type = form.get("grant_type")
    if not grant_type:
        raise InvalidRequestError(description="missing grant_type")
    if grant_type != "client_credentials":
        unsupported = UnsupportedGrantTypeError(grant_type)
        # Authlib leaves the body without a description.
        unsupported.description = "only grant_type=client_credentials is supported"
        raise unsupported
    authorization = headers.get("Authorization")
    has_assertion = "client_assertion" in form or "client_assertion_type" in form
    if "client_secret" in form:
        raise InvalidClientError(description=(
            "client_secret_post is not supported: send the secret with HTTP Basic"))
    if authorization and has_assertion:
        raise InvalidRequestError(description=(
            "use one client authentication method, not HTTP Basic and an assertion"))
    if authorization and not authorization.lower().startswith("basic "):
        raise InvalidClientError(description=(
            "the token endpoint takes HTTP Basic client credentials or a client assertion"))
    if has_assertion and form.get("client_assertion_type") != ASSERTION_TYPE:
        raise InvalidClientError(description=f"client_assertion_type must be {ASSERTION_TYPE}")
    if has_assertion and not _looks_like_jws(form.get("client_assertion", "")):
        raise InvalidClientError(description="the client assertion is not a signed JWT")
    if not authorization and not has_assertion:
        raise InvalidClientError(description=(
            "no client authentication: use HTTP Basic (client_secret_basic) or a client "
            "assertion (private_key_jwt)"))
