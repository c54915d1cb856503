"""Tokens of a trusted external issuer, its JWKS served over real HTTP, and its key rotation."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from hub.auth import AuthenticationError, AuthSettings, TokenVerifier, TrustedIssuer
from hub.launcher import free_port
from tests.auth.conftest import Hub, new_client_id
from tests.auth.harness import ExternalIssuer


def _refused(hub: Hub, token: str, message: str) -> None:
    response = hub.protected(token)
    assert response.status_code == 401, response.text
    assert response.json() == {"error": message}


def test_external_token_accepted(hub: Hub, external_issuer: ExternalIssuer) -> None:
    client_id = new_client_id("ext")  # not registered with the hub: that is allowed
    response = hub.protected(external_issuer.token(client_id, purpose="hr-statistics"))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "client_id": client_id, "issuer": external_issuer.issuer,
        "subject": f"service-account-{client_id}", "purpose": "hr-statistics",
        "expires_at": response.json()["expires_at"],
        "token_id": response.json()["token_id"]}


def test_an_issuer_speaks_only_for_its_own_clients(hub: Hub,
                                                   external_issuer: ExternalIssuer) -> None:
    # Trusting a province's identity provider must not let it act as a ministry's system.
    for client_id in ("moha-personnel-db", new_client_id("other")):
        _refused(hub, external_issuer.token(client_id),
                 f"issuer {external_issuer.issuer} may not issue tokens for client {client_id}")


def test_an_external_token_must_name_its_client(hub: Hub,
                                                external_issuer: ExternalIssuer) -> None:
    # A user's token (or an ID token) names a person in `sub`, not a client: never accepted
    # as a client, even when the person's id happens to match a client pattern.
    from joserfc import jwt

    now = int(time.time())
    user_token = jwt.encode({"alg": "ES256", "kid": external_issuer.key.kid}, {
        "iss": external_issuer.issuer, "aud": external_issuer.audience,
        "sub": new_client_id("ext"), "iat": now, "exp": now + 60},
        external_issuer.key, algorithms=["ES256"])
    _refused(hub, user_token, "malformed token: no client_id or azp claim")


def test_external_token_checks(hub: Hub, external_issuer: ExternalIssuer) -> None:
    client_id = new_client_id("ext")
    _refused(hub, external_issuer.token(client_id, aud=hub.settings.audience),
             "token issued for another audience")
    _refused(hub, external_issuer.token(client_id, exp=int(time.time()) - 3600),
             "token expired")
    # A client the hub knows and has revoked is refused whoever issued its token.
    from hub.auth import revoke_client

    hub.register(client_id)
    assert hub.protected(external_issuer.token(client_id)).status_code == 200
    assert hub.db(lambda conn: revoke_client(conn, client_id))
    hub.wait_for(lambda: not hub.runtime.registry.is_active(client_id), "the revocation")
    _refused(hub, external_issuer.token(client_id), "client revoked")


def test_key_rotation_picked_up_on_unknown_kid(hub: Hub,
                                               external_issuer: ExternalIssuer) -> None:
    client_id = new_client_id("ext")
    old_token = external_issuer.token(client_id)
    assert hub.protected(old_token).status_code == 200
    remote = hub.runtime.verifier.remote_key_set(external_issuer.issuer)
    assert remote is not None

    external_issuer.rotate()
    time.sleep(hub.settings.jwks_refresh_seconds + 0.1)  # past the refetch limit
    fetches = external_issuer.fetches
    new_token = external_issuer.token(client_id)
    assert hub.protected(new_token).status_code == 200, "the new key was not fetched"
    assert external_issuer.fetches == fetches + 1

    # Within the refetch limit, an unknown kid costs the issuer nothing.
    _refused(hub, _with_kid(external_issuer, client_id, "made-up-kid"), "unknown signing key")
    _refused(hub, _with_kid(external_issuer, client_id, "another-made-up-kid"),
             "unknown signing key")
    assert external_issuer.fetches == fetches + 1
    # The withdrawn key's tokens are refused, even one the verifier had cached.
    _refused(hub, old_token, "unknown signing key")
    assert hub.protected(new_token).status_code == 200


def _with_kid(issuer: ExternalIssuer, client_id: str, kid: str) -> str:
    from joserfc import jwt

    now = int(time.time())
    return jwt.encode({"alg": "ES256", "kid": kid}, {
        "iss": issuer.issuer, "aud": issuer.audience, "azp": client_id, "iat": now,
        "exp": now + 60}, issuer.key, algorithms=["ES256"])


def test_unreachable_issuer_keys(hub: Hub, external_issuer: ExternalIssuer) -> None:
    dead = f"http://127.0.0.1:{free_port()}/jwks"
    settings = AuthSettings(issuer=hub.settings.issuer,
                            signing_key_file=hub.settings.signing_key_file,
                            trusted_issuers=(TrustedIssuer(external_issuer.issuer, dead,
                                                           external_issuer.audience,
                                                           clients=("ext-*",)),))
    token = external_issuer.token(new_client_id("ext"))

    async def verify() -> None:
        async with httpx.AsyncClient() as http:
            verifier = TokenVerifier(settings, hub.runtime.keys, hub.runtime.registry, http)
            await verifier.verify(f"Bearer {token}")

    with pytest.raises(AuthenticationError) as caught:
        asyncio.run(verify())
    assert caught.value.message == "the signing keys of the token's issuer cannot be fetched"
