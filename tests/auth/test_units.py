"""Settings from the environment, the signing-key file, and client-secret hashes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from joserfc.jwk import import_key

from hub.auth import AuthSettings, SigningKeys, hash_secret, mint_token, verify_secret
from hub.auth.keys import generate_signing_key
from hub.config import PROJECT_ROOT

_AUTH_VARIABLES = ("HUB_PORT", "HUB_AUTH_ISSUER", "HUB_AUTH_AUDIENCE",
                   "HUB_TOKEN_LIFETIME_SECONDS", "HUB_AUTH_LEEWAY_SECONDS",
                   "HUB_SIGNING_KEY_FILE", "HUB_SIGNING_ALG", "HUB_TRUSTED_ISSUERS",
                   "HUB_JWKS_REFRESH_SECONDS")


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in _AUTH_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_settings_defaults(env: pytest.MonkeyPatch) -> None:
    settings = AuthSettings.from_env()
    assert settings.issuer == "http://127.0.0.1:8000"
    assert settings.token_endpoint == "http://127.0.0.1:8000/oauth/token"
    assert (settings.audience, settings.token_lifetime_seconds, settings.leeway_seconds,
            settings.algorithm, settings.trusted_issuers, settings.jwks_refresh_seconds) == (
        "hub", 300, 30, "ES256", (), 30)
    assert settings.signing_key_file == PROJECT_ROOT / ".hub" / "keys" / "signing.jwks"
    env.setenv("HUB_PORT", "9100")
    assert AuthSettings.from_env().issuer == "http://127.0.0.1:9100"


def test_settings_from_environment(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.setenv("HUB_AUTH_ISSUER", "https://hub.gov.vn/gateway")
    env.setenv("HUB_AUTH_AUDIENCE", "national-hub")
    env.setenv("HUB_TOKEN_LIFETIME_SECONDS", "600")
    env.setenv("HUB_SIGNING_ALG", "RS256")
    env.setenv("HUB_SIGNING_KEY_FILE", str(tmp_path / "k.jwks"))
    env.setenv("HUB_TRUSTED_ISSUERS", json.dumps([
        {"issuer": "https://sso.mof.gov.vn", "jwks_url": "https://sso.mof.gov.vn/jwks",
         "audience": "hub", "clients": ["mof-*"]},
        {"issuer": "https://sso.hanoi.gov.vn", "jwks_url": "https://sso.hanoi.gov.vn/keys",
         "clients": ["hanoi-doha"]}]))
    settings = AuthSettings.from_env()
    assert settings.jwks_uri == "https://hub.gov.vn/gateway/.well-known/jwks.json"
    assert settings.algorithm == "RS256"
    assert settings.token_lifetime_seconds == 600
    assert [(t.issuer, t.audience, t.clients) for t in settings.trusted_issuers] == [
        ("https://sso.mof.gov.vn", "hub", ("mof-*",)),
        ("https://sso.hanoi.gov.vn", "national-hub", ("hanoi-doha",))]
    assert settings.trusted_issuers[0].may_speak_for("mof-payroll")
    assert not settings.trusted_issuers[0].may_speak_for("moha-personnel-db")


@pytest.mark.parametrize(("name", "value", "message"), [
    ("HUB_SIGNING_ALG", "HS256", "HUB_SIGNING_ALG must be one of ES256, RS256"),
    ("HUB_AUTH_ISSUER", "http://hub.example", "HUB_AUTH_ISSUER must use https"),
    ("HUB_AUTH_ISSUER", "hub", "HUB_AUTH_ISSUER must be an absolute http(s) URL"),
    ("HUB_AUTH_LEEWAY_SECONDS", "lots", "HUB_AUTH_LEEWAY_SECONDS must be an integer"),
    ("HUB_TOKEN_LIFETIME_SECONDS", "0", "HUB_TOKEN_LIFETIME_SECONDS must be between 10"),
    ("HUB_TRUSTED_ISSUERS", "{", "HUB_TRUSTED_ISSUERS is not valid JSON"),
    ("HUB_TRUSTED_ISSUERS", "{}", "HUB_TRUSTED_ISSUERS must be a JSON list"),
    ("HUB_TRUSTED_ISSUERS", '[{"issuer": "x"}]',
     "HUB_TRUSTED_ISSUERS[0].jwks_url must be a non-empty string"),
    ("HUB_TRUSTED_ISSUERS", '[{"issuer": "x", "jwks_url": "http://idp.example/jwks"}]',
     "HUB_TRUSTED_ISSUERS[0].jwks_url must use https"),
    ("HUB_TRUSTED_ISSUERS", '[{"issuer": "x", "jwks_url": "https://a/j", "aud": "y"}]',
     "HUB_TRUSTED_ISSUERS[0] has unknown keys: aud"),
    ("HUB_TRUSTED_ISSUERS", '[{"issuer": "x", "jwks_url": "https://a/j"}]',
     "HUB_TRUSTED_ISSUERS[0].clients must list the client ids"),
    ("HUB_TRUSTED_ISSUERS", '[{"issuer": "x", "jwks_url": "https://a/j", "clients": []}]',
     "HUB_TRUSTED_ISSUERS[0].clients must list the client ids"),
    ("HUB_TRUSTED_ISSUERS", '[{"issuer": "http://127.0.0.1:8000", "jwks_url": "https://a/j", '
                            '"clients": ["a-*"]}]',
     "HUB_TRUSTED_ISSUERS must not name the hub's own issuer"),
])
def test_settings_errors(env: pytest.MonkeyPatch, name: str, value: str, message: str) -> None:
    env.setenv(name, value)
    with pytest.raises(ValueError) as caught:
        AuthSettings.from_env()
    assert str(caught.value).startswith(message)


def test_key_file_created_once_with_private_permissions(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "keys" / "signing.jwks"
    keys = SigningKeys.load_or_create(path, "ES256")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    (stored,) = json.loads(path.read_text())["keys"]
    assert stored["kid"] == keys.kid == import_key(stored).thumbprint()
    assert (stored["alg"], stored["use"], stored["crv"]) == ("ES256", "sig", "P-256")
    assert SigningKeys.load_or_create(path, "ES256").kid == keys.kid  # not recreated

    (public,) = keys.public_jwks()["keys"]
    assert set(public) == {"kty", "crv", "x", "y", "kid", "use", "alg"}


def test_rsa_keys_and_rotation(tmp_path: Path) -> None:
    path = tmp_path / "signing.jwks"
    keys = SigningKeys.load_or_create(path, "RS256")
    assert keys.algorithm == "RS256"
    assert keys.signing_key.key_type == "RSA"
    assert len(keys.public_jwks()["keys"][0]["n"]) >= 342  # 2048 bits, base64url

    with pytest.raises(RuntimeError, match="run `hub keys rotate` to add a ES256 key"):
        SigningKeys.load_or_create(path, "ES256")
    first = keys.kid
    second = keys.rotate("ES256")
    assert keys.kid == second != first
    assert keys.algorithm == "ES256"
    assert [k["kid"] for k in keys.public_jwks()["keys"]] == [first, second]
    assert keys.find(first) is not None
    assert SigningKeys.load_or_create(path, "ES256").kid == second


def test_key_file_errors(tmp_path: Path) -> None:
    path = tmp_path / "signing.jwks"
    path.write_text("not json")
    with pytest.raises(RuntimeError, match="cannot read the signing keys"):
        SigningKeys.load_or_create(path, "ES256")
    public_only = generate_signing_key("ES256").as_dict(private=False)
    path.write_text(json.dumps({"keys": [public_only]}))
    with pytest.raises(RuntimeError, match="has no private part"):
        SigningKeys.load_or_create(path, "ES256")


def test_minted_claims(tmp_path: Path) -> None:
    settings = AuthSettings(issuer="https://hub.gov.vn", signing_key_file=tmp_path / "k")
    keys = SigningKeys.load_or_create(settings.signing_key_file, "ES256")
    from joserfc import jwt

    token = mint_token(keys, settings, "client-a", None, 120, now=1_800_000_000)
    decoded = jwt.decode(token, keys.signing_key, algorithms=["ES256"])
    assert decoded.header == {"alg": "ES256", "kid": keys.kid, "typ": "at+jwt"}
    claims = dict(decoded.claims)
    assert claims.pop("jti")
    assert claims == {"iss": "https://hub.gov.vn", "sub": "client-a", "client_id": "client-a",
                      "aud": "hub", "iat": 1_800_000_000, "nbf": 1_800_000_000,
                      "exp": 1_800_000_120}


def test_secret_hashes() -> None:
    encoded = hash_secret("correct horse")
    scheme, n, r, p, salt, _ = encoded.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(salt) == 22  # 16 bytes
    assert hash_secret("correct horse") != encoded  # salted
    assert verify_secret("correct horse", encoded)
    assert not verify_secret("correct horse!", encoded)
    for broken in ("", "scrypt", "bcrypt$16384$8$1$AAAA$AAAA", "scrypt$1000$8$1$AAAA$AAAA",
                   "scrypt$16384$8$1$!!$AAAA", f"scrypt${2**30}$8$1$AAAA$AAAA",
                   "scrypt$16384$8$99$AAAA$AAAA"):
        assert not verify_secret("x", broken)
    with pytest.raises(ValueError, match="must not be empty"):
        hash_secret("")
