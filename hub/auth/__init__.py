"""Authentication for the hub: OAuth 2.0 client credentials, JWT access tokens.

The hub is its own authorization server (``POST /oauth/token``, keys at
``/.well-known/jwks.json``) and accepts, besides its own tokens, those of trusted external
issuers. Clients live in the national database (``oauth_client``) and every hub keeps them in
memory, following changes by LISTEN/NOTIFY, so a revocation takes effect within moments.

Wiring: build an ``AuthRuntime`` at start-up, ``await runtime.open(dsn, http_client)`` in the
lifespan (``await runtime.close()`` after), add ``auth_routes(runtime)`` to the app, and call
``runtime.verifier.verify(request.headers.get("authorization"))`` for every protected request.

The names below are imported on first use: the ``hub`` command line imports ``hub.auth.cli``
for every command, and loading Authlib, joserfc and asyncpg up front would add a quarter of a
second to each.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.auth.clients import (
        CLIENT_ID_PATTERN,
        ClientRecord,
        get_client,
        list_clients,
        register_client,
        restore_client,
        revoke_client,
        set_secret,
    )
    from hub.auth.keys import SigningKeys
    from hub.auth.minting import mint_token
    from hub.auth.registry import ClientRegistry
    from hub.auth.routes import AuthRuntime, auth_routes, bearer_challenge
    from hub.auth.secret_hash import generate_secret, hash_secret, verify_secret
    from hub.auth.server import TokenServer
    from hub.auth.settings import AuthSettings, TrustedIssuer
    from hub.auth.verifier import AuthenticationError, TokenVerifier, VerifiedToken

__all__ = [
    "CLIENT_ID_PATTERN",
    "AuthRuntime",
    "AuthSettings",
    "AuthenticationError",
    "ClientRecord",
    "ClientRegistry",
    "SigningKeys",
    "TokenServer",
    "TokenVerifier",
    "TrustedIssuer",
    "VerifiedToken",
    "auth_routes",
    "bearer_challenge",
    "generate_secret",
    "get_client",
    "hash_secret",
    "list_clients",
    "mint_token",
    "register_client",
    "restore_client",
    "revoke_client",
    "set_secret",
    "verify_secret",
]

_MODULE_OF = {
    **dict.fromkeys(["CLIENT_ID_PATTERN", "ClientRecord", "get_client", "list_clients",
                     "register_client", "restore_client", "revoke_client", "set_secret"],
                    "clients"),
    "SigningKeys": "keys",
    "mint_token": "minting",
    "ClientRegistry": "registry",
    **dict.fromkeys(["AuthRuntime", "auth_routes", "bearer_challenge"], "routes"),
    **dict.fromkeys(["generate_secret", "hash_secret", "verify_secret"], "secret_hash"),
    "TokenServer": "server",
    **dict.fromkeys(["AuthSettings", "TrustedIssuer"], "settings"),
    **dict.fromkeys(["AuthenticationError", "TokenVerifier", "VerifiedToken"], "verifier"),
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'hub.auth' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"hub.auth.{module}"), name)
    globals()[name] = value
    return value
