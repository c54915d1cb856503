"""POST /oauth/token over HTTP: both client authentication methods, every refusal."""

from __future__ import annotations

import time
import uuid

import httpx
from authlib.oauth2.rfc7523 import private_key_jwt_sign  # type: ignore[import-untyped]
from joserfc import jws
from joserfc.jwk import ECKey

from tests.auth.conftest import Hub, new_client_id

SECRET = "secret-" + "x" * 20
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _claims(token: str) -> tuple[dict[str, object], dict[str, object]]:
    import json

    obj = jws.extract_compact(token.encode())
    return obj.headers(), json.loads(obj.payload)


def _assert_oauth_error(response: httpx.Response, status: int, error: str,
                        description: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body == {"error": error, "error_description": description}
    assert response.headers["cache-control"] == "no-store"


def test_metadata_and_published_keys(hub: Hub) -> None:
    metadata = httpx.get(f"{hub.url}/.well-known/oauth-authorization-server").json()
    assert metadata["issuer"] == hub.settings.issuer
    assert metadata["token_endpoint"] == f"{hub.url}/oauth/token"
    assert metadata["jwks_uri"] == f"{hub.url}/.well-known/jwks.json"
    assert metadata["grant_types_supported"] == ["client_credentials"]
    assert metadata["token_endpoint_auth_methods_supported"] == ["client_secret_basic",
                                                                 "private_key_jwt"]
    assert "ES256" in metadata["token_endpoint_auth_signing_alg_values_supported"]

    response = httpx.get(metadata["jwks_uri"])
    assert response.headers["cache-control"].startswith("public, max-age=")
    keys = response.json()["keys"]
    assert keys[-1]["kid"] == hub.runtime.keys.kid  # the newest key signs
    for key in keys:
        assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256",
                                                                    "sig")
        assert "d" not in key  # public parts only


def test_token_via_client_secret_basic(hub: Hub) -> None:
    client_id = new_client_id()
    hub.register(client_id)
    response = hub.request_token(client_id, SECRET)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert response.headers["cache-control"] == "no-store"

    header, claims = _claims(body["access_token"])
    assert header == {"alg": "ES256", "kid": hub.runtime.keys.kid, "typ": "at+jwt"}
    assert set(claims) == {"iss", "sub", "client_id", "aud", "iat", "nbf", "exp", "jti"}
    assert (claims["iss"], claims["sub"], claims["client_id"], claims["aud"]) == (
        hub.settings.issuer, client_id, client_id, "hub")
    assert claims["exp"] == claims["iat"] + 300  # type: ignore[operator]

    verified = hub.protected(body["access_token"])
    assert verified.status_code == 200, verified.text
    assert verified.json()["client_id"] == client_id
    assert verified.json()["purpose"] is None


def _private_key_client(hub: Hub) -> tuple[str, ECKey]:
    client_id = new_client_id("jwt")
    key = ECKey.generate_key("P-256", private=True)
    hub.register(client_id, secret=None, jwks={"keys": [key.as_dict(private=False)]})
    return client_id, key


def _assertion_form(assertion: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion}


def test_token_via_private_key_jwt_and_replay_refused(hub: Hub) -> None:
    client_id, key = _private_key_client(hub)
    # Signed the way an Authlib client signs it.
    assertion = private_key_jwt_sign(key, client_id, hub.settings.token_endpoint, alg="ES256",
                                      expires_in=60)
    response = httpx.post(f"{hub.url}/oauth/token", data=_assertion_form(assertion))
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert hub.protected(token).json()["client_id"] == client_id

    replay = httpx.post(f"{hub.url}/oauth/token", data=_assertion_form(assertion))
    _assert_oauth_error(replay, 401, "invalid_client", "JWT ID is used before.")
    assert replay.headers["www-authenticate"].startswith('Basic error="invalid_client"')

    # The issuer URL is an accepted audience too; a fresh jti is a fresh assertion.
    again = private_key_jwt_sign(key, client_id, hub.settings.issuer, alg="ES256",
                                 expires_in=60)
    assert httpx.post(f"{hub.url}/oauth/token", data=_assertion_form(again)).status_code == 200


def test_assertion_signed_by_an_unregistered_key_is_refused(hub: Hub) -> None:
    client_id, _ = _private_key_client(hub)
    stranger = ECKey.generate_key("P-256", private=True)
    assertion = private_key_jwt_sign(stranger, client_id, hub.settings.token_endpoint,
                                     alg="ES256", expires_in=60)
    response = httpx.post(f"{hub.url}/oauth/token", data=_assertion_form(assertion))
    _assert_oauth_error(response, 401, "invalid_client",
                        "client assertion not signed by a registered key of the client")


def test_assertion_for_another_audience_or_too_long_lived_is_refused(hub: Hub) -> None:
    client_id, key = _private_key_client(hub)
    elsewhere = private_key_jwt_sign(key, client_id, "https://other.example/token",
                                      alg="ES256", expires_in=60)
    response = httpx.post(f"{hub.url}/oauth/token", data=_assertion_form(elsewhere))
    _assert_oauth_error(response, 401, "invalid_client", "Invalid claim: 'aud'")

    forever = private_key_jwt_sign(key, client_id, hub.settings.token_endpoint, alg="ES256",
                                   expires_in=30 * 86_400)
    response = httpx.post(f"{hub.url}/oauth/token", data=_assertion_form(forever))
    _assert_oauth_error(response, 401, "invalid_client",
                        "client assertion lifetime exceeds 3600 seconds")


def test_an_assertion_tells_nothing_of_which_clients_exist(hub: Hub) -> None:
    # A client without keys, an unknown client, a key the client never registered: the same
    # answer each time.
    client_id = new_client_id()
    hub.register(client_id)
    key = ECKey.generate_key("P-256", private=True)
    for subject in (client_id, new_client_id("nobody")):
        assertion = private_key_jwt_sign(key, subject, hub.settings.token_endpoint,
                                         alg="ES256")
        response = httpx.post(f"{hub.url}/oauth/token", data=_assertion_form(assertion))
        _assert_oauth_error(response, 401, "invalid_client",
                            "client assertion not signed by a registered key of the client")


def test_wrong_secret(hub: Hub) -> None:
    client_id = new_client_id()
    hub.register(client_id)
    response = hub.request_token(client_id, "not-the-secret")
    _assert_oauth_error(response, 401, "invalid_client", "unknown client or wrong client secret")
    assert response.headers["www-authenticate"] == (
        'Basic error="invalid_client", error_description="unknown client or wrong client secret"')


def test_unknown_client(hub: Hub) -> None:
    response = hub.request_token("nobody-" + uuid.uuid4().hex[:8], SECRET)
    _assert_oauth_error(response, 401, "invalid_client", "unknown client or wrong client secret")


def test_missing_client_authentication(hub: Hub) -> None:
    response = httpx.post(f"{hub.url}/oauth/token", data={"grant_type": "client_credentials"})
    _assert_oauth_error(response, 401, "invalid_client",
                        "no client authentication: use HTTP Basic (client_secret_basic) or a "
                        "client assertion (private_key_jwt)")
    posted = httpx.post(f"{hub.url}/oauth/token", data={
        "grant_type": "client_credentials", "client_id": "a-client", "client_secret": SECRET})
    _assert_oauth_error(posted, 401, "invalid_client",
                        "client_secret_post is not supported: send the secret with HTTP Basic")


def test_revoked_client_gets_no_token(hub: Hub) -> None:
    from hub.auth import restore_client, revoke_client

    client_id = new_client_id()
    hub.register(client_id)
    assert hub.db(lambda conn: revoke_client(conn, client_id))
    hub.wait_for(lambda: not hub.runtime.registry.is_active(client_id), "the revocation")
    _assert_oauth_error(hub.request_token(client_id, SECRET), 401, "invalid_client",
                        "client revoked")
    # Authentication still comes first: a wrong secret is reported as such.
    _assert_oauth_error(hub.request_token(client_id, "wrong"), 401, "invalid_client",
                        "unknown client or wrong client secret")

    assert hub.db(lambda conn: restore_client(conn, client_id))
    hub.wait_for(lambda: hub.runtime.registry.is_active(client_id), "the restoration")
    assert hub.request_token(client_id, SECRET).status_code == 200


def test_purpose_parameter(hub: Hub) -> None:
    client_id = new_client_id()
    hub.register(client_id, purposes=frozenset({"hr-statistics", "appointment-check"}))
    token = hub.token_for(client_id, purpose="hr-statistics")
    assert _claims(token)[1]["purpose"] == "hr-statistics"
    assert hub.protected(token).json()["purpose"] == "hr-statistics"

    undeclared = hub.request_token(client_id, SECRET, purpose="marketing")
    _assert_oauth_error(undeclared, 400, "invalid_request",
                        f"purpose 'marketing' is not a declared purpose of client '{client_id}'")
    # Values that cannot be shown in an error description are not echoed.
    odd = hub.request_token(client_id, SECRET, purpose='"quoted" purpose')
    _assert_oauth_error(odd, 400, "invalid_request",
                        f"purpose is not a declared purpose of client '{client_id}'")


def test_bad_requests(hub: Hub) -> None:
    client_id = new_client_id()
    hub.register(client_id)
    url = f"{hub.url}/oauth/token"
    as_json = httpx.post(url, json={"grant_type": "client_credentials"},
                         auth=(client_id, SECRET))
    _assert_oauth_error(as_json, 400, "invalid_request", "a token request is a form: "
                        "Content-Type application/x-www-form-urlencoded")

    too_big = httpx.post(url, auth=(client_id, SECRET),
                         data={"grant_type": "client_credentials", "pad": "x" * 20_000})
    _assert_oauth_error(too_big, 400, "invalid_request", "the form exceeds 16384 bytes")

    repeated = httpx.post(url, auth=(client_id, SECRET),
                          content=b"grant_type=client_credentials&grant_type=password",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    _assert_oauth_error(repeated, 400, "invalid_request", "parameter 'grant_type' is repeated")

    missing = httpx.post(url, auth=(client_id, SECRET), data={"purpose": "x"})
    _assert_oauth_error(missing, 400, "invalid_request", "missing grant_type")

    password = hub.request_token(client_id, SECRET, grant_type="password")
    _assert_oauth_error(password, 400, "unsupported_grant_type",
                        "only grant_type=client_credentials is supported")

    scoped = hub.request_token(client_id, SECRET, scope="read")
    _assert_oauth_error(scoped, 400, "invalid_scope",
                        "this server grants no scopes: name a purpose of use instead")

    assert httpx.get(url).status_code == 405


def test_token_lifetime_is_the_configured_one(hub: Hub) -> None:
    client_id = new_client_id()
    hub.register(client_id)
    before = int(time.time())
    _, claims = _claims(hub.token_for(client_id))
    assert before <= claims["iat"] <= int(time.time())  # type: ignore[operator]
    assert claims["exp"] - claims["iat"] == hub.settings.token_lifetime_seconds  # type: ignore[operator]
