"""Whatever string arrives as a signed submission, the answer is a verified submission or a
``SignatureRejected`` with a known code: never another exception, never a changed token
accepted."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hub.updates.keys import SignerKeys
from hub.updates.signatures import (
    CODES,
    SignatureRejected,
    sign_submission,
    verify_co_signature,
    verify_submission,
)
from tests.updates.signers import NOW, b64, claims, signer

AGENCY = {alg: signer(alg) for alg in ("ES256", "RS256", "EdDSA")}
EMPLOYEE = signer("EdDSA", owner_kind="employee", owner_id="CB0000001", index=2)
KEYS = SignerKeys([s.record for s in AGENCY.values()] + [EMPLOYEE.record])
GOOD = {alg: sign_submission(claims(), s.private) for alg, s in AGENCY.items()}
FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12)


def outcome(token: Any) -> str:
    """'accepted', or the rejection code; any other exception fails the test."""
    try:
        verify_submission(token, KEYS, now=NOW)
    except SignatureRejected as error:
        return error.code
    return "accepted"


@FUZZ
@given(st.text(max_size=400))
def test_any_text_is_refused_with_a_known_code(token: str) -> None:
    assert outcome(token) in CODES


@FUZZ
@given(st.lists(st.text(alphabet=B64_ALPHABET + "=+/.", max_size=60), min_size=1,
                max_size=5).map(".".join))
def test_jws_shaped_text_is_refused_with_a_known_code(token: str) -> None:
    assert outcome(token) in CODES


@FUZZ
@given(st.sampled_from(sorted(GOOD)), st.data())
def test_a_changed_token_is_never_accepted(algorithm: str, data: st.DataObject) -> None:
    token = GOOD[algorithm]
    position = data.draw(st.integers(0, len(token) - 1))
    edit = data.draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
    if edit == "replace":
        changed = token[:position] + data.draw(st.characters()) + token[position + 1:]
    elif edit == "insert":
        changed = token[:position] + data.draw(st.text(min_size=1, max_size=3)) + token[position:]
    elif edit == "delete":
        changed = token[:position] + token[position + 1:]
    else:
        changed = token[:position]
    assume(changed != token)
    assert outcome(changed) in CODES


@FUZZ
@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6),
       st.dictionaries(st.sampled_from(["jti", "iat", "iss", "kind", "employee", "baseVersion",
                                        "change", "sourceSystem"]), json_values))
def test_any_signed_json_object_is_accepted_or_refused_with_a_known_code(
        extra: dict[str, Any], overrides: dict[str, Any]) -> None:
    agency = AGENCY["ES256"]
    payload = {**claims(), **extra, **overrides}
    assert outcome(sign_submission(payload, agency.private)) in CODES | {"accepted"}


@FUZZ
@given(json_values, st.dictionaries(st.sampled_from(["alg", "kid", "typ", "crit", "b64"]),
                                    json_values | st.sampled_from(["ES256", "none"])))
def test_any_header_and_payload_are_refused_with_a_known_code(payload: Any,
                                                               header: dict[str, Any]) -> None:
    token = f"{b64(json.dumps(header))}.{b64(json.dumps(payload))}.{b64(b'sig')}"
    assert outcome(token) in CODES


@FUZZ
@given(st.text(max_size=200), st.dictionaries(st.text(max_size=8), json_values, max_size=4))
def test_any_co_signature_is_refused_with_a_known_code(token: str,
                                                       payload: dict[str, Any]) -> None:
    code = "accepted"
    try:
        verify_co_signature(token, payload, KEYS, "CB0000001", now=NOW)
    except SignatureRejected as error:
        code = error.code
    assert code in CODES
