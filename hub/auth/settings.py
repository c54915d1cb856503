"""Authentication settings, read from the environment once at start-up."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from urllib.parse import urlsplit

from hub.config import PROJECT_ROOT, env_int

__all__ = ["SIGNING_ALGORITHMS", "AuthSettings", "TrustedIssuer"]

#: The algorithms the hub signs with and accepts. Asymmetric only: a resource server must never
#: hold a secret that could also mint tokens, and HS* with a public key is the classic
#: algorithm-confusion attack.
SIGNING_ALGORITHMS = ("ES256", "RS256")


def _is_loopback(host: str | None) -> bool:
    return host in {"localhost", "127.0.0.1", "::1"}


def _check_url(name: str, value: str) -> str:
    """An absolute http(s) URL; plain http only on loopback (Authlib refuses it elsewhere,
    and a token endpoint reached over plain http leaks client secrets)."""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"{name} must be an absolute http(s) URL, not {value!r}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError(f"{name} must use https (plain http is allowed on loopback only): "
                         f"{value!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"{name} must not carry a query or a fragment: {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class TrustedIssuer:
    """An external authorization server whose access tokens the hub also accepts, for the
    clients it may speak for (glob patterns of client ids, e.g. ``mof-*``): trusting an issuer
    must not let it mint tokens for any client the hub serves."""

    issuer: str
    jwks_url: str
    audience: str
    clients: tuple[str, ...] = ()

    def may_speak_for(self, client_id: str) -> bool:
        return any(fnmatchcase(client_id, pattern) for pattern in self.clients)


def _text(entry: dict[str, object], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}.{key} must be a non-empty string")
    return value


def _trusted_issuers(raw: str, default_audience: str) -> tuple[TrustedIssuer, ...]:
    try:
        entries = json.loads(raw)
    except ValueError as error:
        raise ValueError(f"HUB_TRUSTED_ISSUERS is not valid JSON: {error}") from None
    if not isinstance(entries, list):
        raise ValueError('HUB_TRUSTED_ISSUERS must be a JSON list of '
                         '{"issuer", "jwks_url", "clients", "audience"} objects')
    issuers = []
    for index, entry in enumerate(entries):
        where = f"HUB_TRUSTED_ISSUERS[{index}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} must be an object")
        unknown = set(entry) - {"issuer", "jwks_url", "audience", "clients"}
        if unknown:
            raise ValueError(f"{where} has unknown keys: {', '.join(sorted(unknown))}")
        issuer = _text(entry, "issuer", where)
        jwks_url = _check_url(f"{where}.jwks_url", _text(entry, "jwks_url", where))
        audience = _text({"audience": default_audience, **entry}, "audience", where)
        clients = entry.get("clients")
        if (not isinstance(clients, list) or not clients
                or not all(isinstance(c, str) and c for c in clients)):
            raise ValueError(f"{where}.clients must list the client ids (glob patterns) the "
                             "issuer may issue tokens for")
        issuers.append(TrustedIssuer(issuer, jwks_url, audience, tuple(clients)))
    names = [i.issuer for i in issuers]
    if len(set(names)) != len(names):
        raise ValueError("HUB_TRUSTED_ISSUERS names an issuer twice")
    return tuple(issuers)


@dataclass(frozen=True, slots=True)
class AuthSettings:
    issuer: str
    audience: str = "hub"
    token_lifetime_seconds: int = 300
    leeway_seconds: int = 30
    signing_key_file: Path = PROJECT_ROOT / ".hub" / "keys" / "signing.jwks"
    algorithm: str = "ES256"
    trusted_issuers: tuple[TrustedIssuer, ...] = ()
    jwks_refresh_seconds: int = 30

    def __post_init__(self) -> None:
        _check_url("HUB_AUTH_ISSUER", self.issuer)
        if self.algorithm not in SIGNING_ALGORITHMS:
            raise ValueError(f"HUB_SIGNING_ALG must be one of {', '.join(SIGNING_ALGORITHMS)}, "
                             f"not {self.algorithm!r}")
        if not self.audience:
            raise ValueError("HUB_AUTH_AUDIENCE must not be empty")
        if any(t.issuer == self.issuer for t in self.trusted_issuers):
            raise ValueError("HUB_TRUSTED_ISSUERS must not name the hub's own issuer")

    @property
    def token_endpoint(self) -> str:
        return self.issuer.rstrip("/") + "/oauth/token"

    @property
    def jwks_uri(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/jwks.json"

    @classmethod
    def from_env(cls) -> AuthSettings:
        port = os.environ.get("HUB_PORT") or "8000"
        audience = os.environ.get("HUB_AUTH_AUDIENCE") or "hub"
        key_file = os.environ.get("HUB_SIGNING_KEY_FILE")
        return cls(
            issuer=os.environ.get("HUB_AUTH_ISSUER") or f"http://127.0.0.1:{port}",
            audience=audience,
            token_lifetime_seconds=env_int("HUB_TOKEN_LIFETIME_SECONDS", 300, 10, 86_400),
            leeway_seconds=env_int("HUB_AUTH_LEEWAY_SECONDS", 30, 0, 600),
            signing_key_file=(Path(key_file) if key_file
                              else PROJECT_ROOT / ".hub" / "keys" / "signing.jwks"),
            algorithm=os.environ.get("HUB_SIGNING_ALG") or "ES256",
            trusted_issuers=_trusted_issuers(os.environ.get("HUB_TRUSTED_ISSUERS") or "[]",
                                             audience),
            jwks_refresh_seconds=env_int("HUB_JWKS_REFRESH_SECONDS", 30, 1, 86_400),
        )
