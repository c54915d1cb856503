"""Property tests for the verifier: whatever arrives, the answer is a verified token or an
AuthenticationError, and a token changed in any way is never accepted."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hub.auth import AuthenticationError, VerifiedToken
from tests.auth.conftest import Hub, new_client_id
from tests.auth.harness import ExternalIssuer, b64

BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
FUZZ = settings(max_examples=250, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)


def _verify(hub: Hub, authorization: str | None) -> VerifiedToken | AuthenticationError:
    async def attempt() -> VerifiedToken | AuthenticationError:
        try:
            return await hub.runtime.verifier.verify(authorization)
        except AuthenticationError as error:
            return error

    # Anything other than AuthenticationError propagates and fails the test.
    return hub.server.call(attempt())


@pytest.fixture(scope="module")
def valid_tokens(hub: Hub, external_issuer: ExternalIssuer) -> list[str]:
    client_id = new_client_id("ext-fuzz")  # a client the external issuer may speak for
    hub.register(client_id, purposes=frozenset({"hr-statistics"}))
    tokens = [hub.token_for(client_id), hub.token_for(client_id, purpose="hr-statistics"),
              external_issuer.token(client_id)]
    for token in tokens:
        assert isinstance(_verify(hub, f"Bearer {token}"), VerifiedToken)
    return tokens


@FUZZ
@given(header=st.none() | st.text(max_size=300))
def test_arbitrary_headers(hub: Hub, header: str | None) -> None:
    outcome = _verify(hub, header)
    assert isinstance(outcome, AuthenticationError)
    assert outcome.message


@FUZZ
@given(header=json_values, payload=json_values, signature=st.binary(max_size=300))
def test_arbitrary_json_segments(hub: Hub, header: object, payload: object,
                                 signature: bytes) -> None:
    token = f"{b64(_jsonable(header))}.{b64(_jsonable(payload))}.{b64(signature)}"
    assert isinstance(_verify(hub, f"Bearer {token}"), AuthenticationError)


@FUZZ
@given(data=st.data())
def test_mutated_tokens_are_never_accepted(hub: Hub, valid_tokens: list[str],
                                           data: st.DataObject) -> None:
    token = data.draw(st.sampled_from(valid_tokens))
    position = data.draw(st.integers(0, len(token) - 1))
    kind = data.draw(st.sampled_from(["replace", "delete", "insert", "swap-segments"]))
    if kind == "replace":
        replacement = data.draw(st.sampled_from(BASE64URL + ".").filter(
            lambda c: c != token[position]))
        mutated = token[:position] + replacement + token[position + 1:]
    elif kind == "delete":
        mutated = token[:position] + token[position + 1:]
    elif kind == "insert":
        mutated = token[:position] + data.draw(st.sampled_from(BASE64URL)) + token[position:]
    else:
        other = data.draw(st.sampled_from([t for t in valid_tokens if t != token]))
        header, payload, signature = token.split(".")
        other_header, other_payload, _ = other.split(".")
        mutated = data.draw(st.sampled_from([f"{header}.{other_payload}.{signature}",
                                             f"{other_header}.{payload}.{signature}"]))
    assume(mutated != token)  # two of the tokens share a header
    outcome = _verify(hub, f"Bearer {mutated}")
    assert isinstance(outcome, AuthenticationError), f"accepted a mutated token: {mutated}"


def _jsonable(value: object) -> bytes:
    import json

    # NaN and infinities are not JSON, but a hostile token may carry them anyway.
    return json.dumps(value, allow_nan=True).encode()
