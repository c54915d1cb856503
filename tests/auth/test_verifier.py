"""Bearer tokens at a protected route, over HTTP: each refusal with its own message."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from tests.auth.conftest import Hub, new_client_id
from tests.auth.harness import b64

SECRET = "secret-" + "x" * 20


def _refused(hub: Hub, message: str, token: str | None = None, *,
             authorization: str | None = None) -> None:
    response = hub.protected(token, authorization=authorization)
    assert response.status_code == 401, response.text
    assert response.json() == {"error": message}
    challenge = response.headers["www-authenticate"]
    if message == "no bearer token":
        assert challenge == 'Bearer realm="hub"'
    else:
        assert challenge.startswith('Bearer realm="hub", error="invalid_token", ')


@pytest.fixture(scope="module")
def client_id(hub: Hub) -> str:
    client_id = new_client_id("verify")
    hub.register(client_id)
    return client_id


def test_a_valid_token_is_accepted_again_and_again(hub: Hub, client_id: str) -> None:
    token = hub.token_for(client_id)
    for _ in range(3):  # the second and third come from the verifier's cache
        response = hub.protected(token)
        assert response.status_code == 200
        body = response.json()
        assert body["client_id"] == body["subject"] == client_id
        assert body["issuer"] == hub.settings.issuer
        assert body["token_id"]
        assert body["expires_at"] > time.time()


def test_no_token(hub: Hub) -> None:
    _refused(hub, "no bearer token")
    _refused(hub, "no bearer token", authorization="")
    wrong_scheme = ("no bearer token: send the header 'Authorization: Bearer "
                    "<access token>'")
    _refused(hub, wrong_scheme, authorization="Basic YTpi")
    _refused(hub, wrong_scheme, authorization="Bearer")


@pytest.mark.parametrize(("token", "message"), [
    ("garbage", "malformed token: a JWT has three dot-separated parts"),
    ("two.segments", "malformed token: a JWT has three dot-separated parts"),
    ("a.b.c.d.e", "malformed token: a JWT has three dot-separated parts"),
    ("!!!.e30.c2ln", "malformed token: the header is not base64url-encoded JSON"),
    (f"{b64({'alg': 'ES256'})}.e30=.c2ln",
     "malformed token: the payload is not base64url-encoded JSON"),
    (f"{b64(b'not json')}.e30.c2ln", "malformed token: the header is not base64url-encoded JSON"),
    (f"{b64([1, 2])}.e30.c2ln", "malformed token: the header is not a JSON object"),
    (f"{b64({'alg': 'ES256'})}.{b64(['a'])}.c2ln",
     "malformed token: the payload is not a JSON object"),
    (f"{b64({'alg': 'ES256'})}.{b64(b'just a string')}.c2ln",
     "malformed token: the payload is not base64url-encoded JSON"),
    (f"{b64({'alg': 'ES256'})}.e30.s!g", "malformed token: the signature is not "
     "base64url-encoded"),
    (f"{b64({'alg': 'ES256'})}.e30.c2ln", "malformed token: the header has no kid"),
    (f"{b64({'alg': 'ES256', 'kid': 'k'})}.e30.c2ln", "malformed token: no iss claim"),
    ("x" * 9000, "malformed token: longer than 8192 characters"),
])
def test_malformed_tokens(hub: Hub, token: str, message: str) -> None:
    _refused(hub, message, token)


def test_expired_and_not_yet_valid(hub: Hub, client_id: str) -> None:
    now = int(time.time())
    leeway = hub.settings.leeway_seconds
    _refused(hub, "token expired",
             hub.sign(hub.claims(client_id, iat=now - 600, nbf=now - 600,
                                 exp=now - leeway - 5)))
    _refused(hub, "token not yet valid",
             hub.sign(hub.claims(client_id, nbf=now + leeway + 60)))
    _refused(hub, "token issued in the future",
             hub.sign(hub.claims(client_id, iat=now + leeway + 60, nbf=now)))
    # Within the leeway, clock skew is forgiven.
    skewed = hub.sign(hub.claims(client_id, exp=now - leeway + 10, nbf=now + leeway - 10))
    assert hub.protected(skewed).status_code == 200
    _refused(hub, "malformed token: exp is not a NumericDate",
             hub.sign(hub.claims(client_id, exp="tomorrow")))
    claims = hub.claims(client_id)
    del claims["exp"]
    _refused(hub, "malformed token: missing claim exp", hub.sign(claims))


def test_a_cached_token_still_expires(hub: Hub, client_id: str) -> None:
    now = int(time.time())
    leeway = hub.settings.leeway_seconds
    token = hub.sign(hub.claims(client_id, exp=now - leeway + 2))
    assert hub.protected(token).status_code == 200  # now in the verifier's cache
    time.sleep(2.1)
    _refused(hub, "token expired", token)


def test_wrong_audience_and_issuer(hub: Hub, client_id: str) -> None:
    _refused(hub, "token issued for another audience",
             hub.sign(hub.claims(client_id, aud="another-gateway")))
    _refused(hub, "token issued for another audience",
             hub.sign(hub.claims(client_id, aud=["a", "b"])))
    assert hub.protected(hub.sign(hub.claims(client_id, aud=["a", "hub"]))).status_code == 200
    _refused(hub, "token from an untrusted issuer",
             hub.sign(hub.claims(client_id, iss="https://evil.example")))


def test_bad_signature(hub: Hub, client_id: str) -> None:
    token = hub.token_for(client_id)
    header, _, signature = token.split(".")
    forged_claims = hub.claims(new_client_id("someone-else"))
    tampered = f"{header}.{b64(forged_claims)}.{signature}"
    _refused(hub, "bad token signature", tampered)
    # Signed with a key that has the hub key's kid but is not the hub's key.
    impostor = ECKey.generate_key("P-256", private=True)
    forged = jwt.encode({"alg": "ES256", "kid": hub.runtime.keys.kid, "typ": "at+jwt"},
                        hub.claims(client_id), impostor, algorithms=["ES256"])
    _refused(hub, "bad token signature", forged)


def test_alg_none_and_algorithm_confusion(hub: Hub, client_id: str) -> None:
    kid = hub.runtime.keys.kid
    claims = b64(hub.claims(client_id))
    unsigned = f"{b64({'alg': 'none', 'kid': kid, 'typ': 'at+jwt'})}.{claims}."
    unsupported = "unsupported token algorithm: accepted are ES256, RS256"
    _refused(hub, unsupported, unsigned)
    for alg in ("NONE", "HS384", "PS256", "EdDSA"):
        _refused(hub, unsupported, f"{b64({'alg': alg, 'kid': kid})}.{claims}.c2ln")

    # The classic confusion: HS256 keyed with the bytes of the published public key.
    signing_key = hub.runtime.keys.signing_key
    assert isinstance(signing_key, ECKey)
    public_pem = signing_key.as_pem(private=False)
    signing_input = f"{b64({'alg': 'HS256', 'kid': kid, 'typ': 'at+jwt'})}.{claims}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    _refused(hub, unsupported, f"{signing_input}.{b64(mac)}")


def test_key_and_algorithm_must_match(hub: Hub, client_id: str) -> None:
    # RS256 named in the header of a token whose kid is the hub's EC key.
    rsa = RSAKey.generate_key(2048, private=True)
    token = jwt.encode({"alg": "RS256", "kid": hub.runtime.keys.kid, "typ": "at+jwt"},
                       hub.claims(client_id), rsa, algorithms=["RS256"])
    _refused(hub, "token algorithm does not match its signing key", token)


def test_unknown_kid(hub: Hub, client_id: str) -> None:
    _refused(hub, "unknown signing key", hub.sign(hub.claims(client_id), kid="no-such-key"))


def test_only_access_tokens(hub: Hub, client_id: str) -> None:
    _refused(hub, "not an access token: typ must be at+jwt",
             hub.sign(hub.claims(client_id), typ="JWT"))


def test_clients_must_be_registered_and_active(hub: Hub, client_id: str) -> None:
    _refused(hub, "token of an unknown client",
             hub.sign(hub.claims("never-registered")))
    _refused(hub, "malformed token: no client_id, azp or sub claim",
             hub.sign({k: v for k, v in hub.claims(client_id).items()
                       if k not in {"sub", "client_id"}}))


def test_revoked_client_token_refused_soon_after(hub: Hub) -> None:
    from hub.auth import revoke_client

    client_id = new_client_id("revoke")
    hub.register(client_id)
    token = hub.token_for(client_id)
    assert hub.protected(token).status_code == 200  # cached from here on

    revoked_at = time.monotonic()
    assert hub.db(lambda conn: revoke_client(conn, client_id))
    deadline = revoked_at + 5
    while hub.protected(token).status_code == 200:
        assert time.monotonic() < deadline, "the revocation did not arrive within 5 s"
        time.sleep(0.05)
    _refused(hub, "client revoked", token)


def test_tokens_end_when_the_credentials_change(hub: Hub) -> None:
    from hub.auth import restore_client, revoke_client, set_secret

    client_id = new_client_id("rotate")
    hub.register(client_id)
    old = hub.token_for(client_id)
    assert hub.protected(old).status_code == 200
    time.sleep(1.05)  # iat has whole seconds: the change falls in a later second than `old`

    # A new secret (the old one leaked): tokens obtained with the old one stop.
    assert hub.db(lambda conn: set_secret(conn, client_id, "another-secret-" + "y" * 16))
    hub.wait_for(lambda: hub.protected(old).status_code == 401, "the secret change")
    _refused(hub, "token issued before the client's credentials changed", old)
    fresh = hub.token_for(client_id, secret="another-secret-" + "y" * 16)
    assert hub.protected(fresh).status_code == 200
    time.sleep(1.05)

    # Revoked, then restored: the tokens from before the revocation stay dead.
    assert hub.db(lambda conn: revoke_client(conn, client_id))
    hub.wait_for(lambda: hub.protected(fresh).status_code == 401, "the revocation")
    assert hub.db(lambda conn: restore_client(conn, client_id))
    hub.wait_for(lambda: hub.runtime.registry.is_active(client_id), "the restoration")
    _refused(hub, "token issued before the client's credentials changed", fresh)
    assert hub.protected(hub.token_for(client_id, secret="another-secret-" + "y" * 16)
                         ).status_code == 200
