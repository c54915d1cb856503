"""``verify_submission`` and ``verify_co_signature``: every rejection code with a real token,
and the good signatures of each algorithm accepted."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from hub.updates.keys import SignerKeys
from hub.updates.signatures import (
    ALGORITHM_NOT_ALLOWED,
    BAD_SIGNATURE,
    IAT_IN_FUTURE,
    KEY_EXPIRED,
    KEY_NOT_YET_VALID,
    KEY_REVOKED,
    MALFORMED,
    MAX_PAYLOAD_BYTES,
    MISSING_CLAIMS,
    PAYLOAD_MISMATCH,
    SIGNATURE_TOO_OLD,
    UNKNOWN_KEY,
    WRONG_SIGNER,
    WRONG_TYPE,
    SignatureRejected,
    SignedSubmission,
    canonical_json,
    kid_of,
    sign_submission,
    verify_co_signature,
    verify_submission,
)
from tests.updates.signers import NOW, Signer, b64, claims, raw_token, signer

ALGORITHMS = ("ES256", "RS256", "EdDSA")


def verify(token: Any, *signers: Signer, **options: Any) -> SignedSubmission:
    return verify_submission(token, SignerKeys(s.record for s in signers), now=NOW, **options)


def rejected(token: Any, *signers: Signer, **options: Any) -> SignatureRejected:
    with pytest.raises(SignatureRejected) as caught:
        verify(token, *signers, **options)
    return caught.value


def code_of(token: Any, *signers: Signer, **options: Any) -> str:
    return rejected(token, *signers, **options).code


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_good_signature_is_accepted(algorithm: str) -> None:
    agency = signer(algorithm)
    payload = claims()
    verified = verify(sign_submission(payload, agency.private), agency, expected_issuer="G01")
    assert verified.payload == payload
    assert (verified.kid, verified.owner_kind, verified.owner_id, verified.algorithm) == (
        agency.kid, "agency", "G01", algorithm)
    assert verified.signed_at == NOW - timedelta(minutes=1)
    assert verified.canonical == canonical_json(payload)


def test_the_typ_may_carry_its_media_type_prefix() -> None:
    agency = signer()
    token = sign_submission(claims(), agency.private, typ="application/HUB-submission+jws")
    assert verify(token, agency).owner_id == "G01"


# -- forged and tampered ----------------------------------------------------------------------

@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_signature_by_another_key_is_forged(algorithm: str) -> None:
    registered, thief = signer(algorithm), signer(algorithm, index=1)
    token = sign_submission(claims(), thief.private, kid=registered.kid)
    assert code_of(token, registered) == BAD_SIGNATURE


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_tampered_payload_fails_the_signature(algorithm: str) -> None:
    agency = signer(algorithm)
    header, _, signature = sign_submission(claims(), agency.private).split(".")
    raised = canonical_json(claims(change={"positionCode": "P-01"}))
    assert code_of(f"{header}.{b64(raised)}.{signature}", agency) == BAD_SIGNATURE


def test_a_changed_byte_of_the_payload_fails_the_signature() -> None:
    agency = signer()
    header, payload, signature = sign_submission(claims(), agency.private).split(".")
    body = bytearray(canonical_json(claims()))
    body[body.index(b"P-07") + 3] = ord("8")
    assert code_of(f"{header}.{b64(bytes(body))}.{signature}", agency) == BAD_SIGNATURE
    flipped = "A" if signature[0] != "A" else "B"
    assert code_of(f"{header}.{payload}.{flipped}{signature[1:]}", agency) == BAD_SIGNATURE


def test_a_signature_moved_to_another_key_of_the_same_owner_fails() -> None:
    first, second = signer(), signer(index=1)
    _, payload, signature = sign_submission(claims(), first.private).split(".")
    header = canonical_json({"alg": "ES256", "kid": second.kid, "typ": "hub-submission+jws"})
    assert code_of(f"{b64(header)}.{payload}.{signature}", first, second) == BAD_SIGNATURE


def test_a_truncated_signature_fails() -> None:
    agency = signer()
    token = sign_submission(claims(), agency.private)
    head, payload, signature = token.split(".")
    assert code_of(f"{head}.{payload}.{signature[:40]}", agency) == BAD_SIGNATURE
    assert code_of(f"{head}.{payload}.", agency) == BAD_SIGNATURE


# -- algorithms -------------------------------------------------------------------------------

def test_alg_none_is_refused() -> None:
    agency = signer()
    token = raw_token({"alg": "none", "kid": agency.kid, "typ": "hub-submission+jws"},
                      claims())
    assert code_of(token, agency) == ALGORITHM_NOT_ALLOWED


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_hs256_keyed_with_the_public_key_is_refused(algorithm: str) -> None:
    agency = signer(algorithm)
    public: Any = agency.record.key.raw_value
    for secret in (public.public_bytes(serialization.Encoding.PEM,
                                       serialization.PublicFormat.SubjectPublicKeyInfo),
                   json.dumps(agency.record.jwk).encode()):
        header = {"alg": "HS256", "kid": agency.kid, "typ": "hub-submission+jws"}
        signing_input = f"{b64(json.dumps(header))}.{b64(canonical_json(claims()))}"
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        assert code_of(f"{signing_input}.{b64(mac)}", agency) == ALGORITHM_NOT_ALLOWED


@pytest.mark.parametrize(("claimed", "key"), [("RS256", "ES256"), ("ES256", "EdDSA"),
                                              ("EdDSA", "RS256")])
def test_an_alg_other_than_the_keys_is_refused(claimed: str, key: str) -> None:
    agency, other = signer(key), signer(claimed)
    token = sign_submission(claims(), other.private, kid=agency.kid, alg=claimed)
    assert code_of(token, agency) == ALGORITHM_NOT_ALLOWED


@pytest.mark.parametrize("alg", ["ES384", "PS256", "Ed25519", "HS512", "NONE", ""])
def test_algorithms_outside_the_list_are_refused(alg: str) -> None:
    agency = signer()
    token = raw_token({"alg": alg, "kid": agency.kid, "typ": "hub-submission+jws"}, claims(),
                      b"x" * 64)
    assert code_of(token, agency) == ALGORITHM_NOT_ALLOWED


# -- header -----------------------------------------------------------------------------------

@pytest.mark.parametrize("typ", ["JWT", "at+jwt", "hub-audit-checkpoint+jws", None, 1])
def test_a_wrong_typ_is_refused(typ: Any) -> None:
    agency = signer()
    header = {"alg": "ES256", "kid": agency.kid}
    if typ is not None:
        header["typ"] = typ
    assert code_of(raw_token(header, claims(), b"x" * 64), agency) == WRONG_TYPE


def test_a_signed_audit_checkpoint_is_not_a_submission() -> None:
    agency = signer()
    token = sign_submission(claims(), agency.private, typ="hub-audit-checkpoint+jws")
    assert code_of(token, agency) == WRONG_TYPE


def test_an_unknown_kid_is_refused() -> None:
    agency, stranger = signer(), signer(index=1)
    error = rejected(sign_submission(claims(), stranger.private), agency)
    assert error.code == UNKNOWN_KEY
    assert stranger.kid in error.message


@pytest.mark.parametrize("header", [
    {"alg": "ES256", "typ": "hub-submission+jws"},
    {"alg": "ES256", "typ": "hub-submission+jws", "kid": ""},
    {"alg": "ES256", "typ": "hub-submission+jws", "kid": 7},
    {"alg": "ES256", "typ": "hub-submission+jws", "kid": "k", "crit": ["exp"], "exp": 1},
    {"alg": "ES256", "typ": "hub-submission+jws", "kid": "k", "b64": False,
     "crit": ["b64"]},
    {"alg": "ES256", "typ": "hub-submission+jws", "kid": "k", "jku": "http://evil/jwks"},
    {"typ": "hub-submission+jws", "kid": "k"},
    {"alg": ["ES256"], "typ": "hub-submission+jws", "kid": "k"},
])
def test_headers_beyond_the_format_are_malformed(header: dict[str, Any]) -> None:
    assert code_of(raw_token(header, claims(), b"x" * 64), signer()) == MALFORMED


# -- when the key may sign --------------------------------------------------------------------

def test_a_key_not_yet_valid_when_signing_is_refused() -> None:
    agency = signer().with_validity(valid_from=NOW - timedelta(seconds=30))
    assert code_of(sign_submission(claims(), agency.private), agency) == KEY_NOT_YET_VALID


def test_a_key_expired_when_signing_is_refused() -> None:
    agency = signer().with_validity(valid_until=NOW - timedelta(minutes=5))
    assert code_of(sign_submission(claims(), agency.private), agency) == KEY_EXPIRED
    # valid_until is exclusive.
    at_the_end = agency.with_validity(valid_until=NOW - timedelta(minutes=1))
    assert code_of(sign_submission(claims(), agency.private), at_the_end) == KEY_EXPIRED


def test_a_key_expired_since_signing_still_stands_behind_what_it_signed() -> None:
    agency = signer().with_validity(valid_until=NOW - timedelta(days=1))
    signed = claims(iat=int((NOW - timedelta(days=3)).timestamp()))
    assert verify(sign_submission(signed, agency.private), agency).owner_id == "G01"


def test_a_revoked_key_is_refused_for_what_it_signs_after_the_revocation() -> None:
    agency = signer().with_validity(revoked_at=NOW - timedelta(hours=1))
    error = rejected(sign_submission(claims(), agency.private), agency)
    assert (error.code, error.field) == (KEY_REVOKED, "iat")
    # At the revocation instant itself: refused.
    exactly = claims(iat=int((NOW - timedelta(hours=1)).timestamp()))
    assert code_of(sign_submission(exactly, agency.private), agency) == KEY_REVOKED


def test_a_revoked_key_stands_behind_what_it_signed_before() -> None:
    agency = signer().with_validity(revoked_at=NOW - timedelta(hours=1))
    earlier = claims(iat=int((NOW - timedelta(hours=2)).timestamp()))
    assert verify(sign_submission(earlier, agency.private), agency).kid == agency.kid


def test_revocation_is_reported_before_expiry() -> None:
    agency = signer().with_validity(valid_until=NOW - timedelta(hours=2),
                                    revoked_at=NOW - timedelta(hours=3))
    assert code_of(sign_submission(claims(), agency.private), agency) == KEY_REVOKED


def test_an_iat_in_the_future_is_refused_beyond_the_leeway() -> None:
    agency = signer()
    ahead = claims(iat=int((NOW + timedelta(seconds=61)).timestamp()))
    assert code_of(sign_submission(ahead, agency.private), agency) == IAT_IN_FUTURE
    assert code_of(sign_submission(ahead, agency.private), agency,
                   leeway_seconds=0) == IAT_IN_FUTURE
    within = claims(iat=int((NOW + timedelta(seconds=60)).timestamp()))
    assert verify(sign_submission(within, agency.private), agency).kid == agency.kid
    far = claims(iat=int((NOW + timedelta(days=3650)).timestamp()))
    assert code_of(sign_submission(far, agency.private), agency) == IAT_IN_FUTURE


def test_a_signature_older_than_the_maximum_age_is_refused() -> None:
    agency = signer()
    week = 7 * 86_400
    old = claims(iat=int((NOW - timedelta(days=7, seconds=1)).timestamp()))
    error = rejected(sign_submission(old, agency.private), agency, max_age_seconds=week)
    assert (error.code, error.field) == (SIGNATURE_TOO_OLD, "iat")
    assert "more than 7 day(s) ago" in error.message
    edge = claims(iat=int((NOW - timedelta(days=7)).timestamp()))
    assert verify(sign_submission(edge, agency.private), agency,
                  max_age_seconds=week).kid == agency.kid
    # Without a bound (the function's default) any age within the key's validity stands.
    assert verify(sign_submission(old, agency.private), agency).kid == agency.kid
    # The employee's co-signature is held to the same bound (one iat for both).
    employee = signer(owner_kind="employee", owner_id="CB1")
    with pytest.raises(SignatureRejected) as caught:
        verify_co_signature(sign_submission(old, employee.private), old,
                            SignerKeys([employee.record]), "CB1", now=NOW,
                            max_age_seconds=week)
    assert caught.value.code == SIGNATURE_TOO_OLD


# -- who signs --------------------------------------------------------------------------------

def test_another_agencys_key_is_the_wrong_signer() -> None:
    other = signer(owner_id="G02")
    error = rejected(sign_submission(claims(iss="G01"), other.private), other)
    assert (error.code, error.field) == (WRONG_SIGNER, "iss")


def test_an_employee_key_cannot_sign_for_an_agency() -> None:
    employee = signer("EdDSA", owner_kind="employee", owner_id="G01")
    assert code_of(sign_submission(claims(), employee.private), employee) == WRONG_SIGNER


def test_the_issuer_must_be_the_agency_the_submitter_acts_for() -> None:
    agency = signer()
    token = sign_submission(claims(), agency.private)
    assert code_of(token, agency, expected_issuer="G02") == WRONG_SIGNER
    assert verify(token, agency, expected_issuer="G01").owner_id == "G01"


# -- claims -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("overrides", "field"), [
    ({"jti": ...}, "jti"), ({"jti": ""}, "jti"), ({"jti": 17}, "jti"), ({"jti": "x" * 129}, "jti"),
    ({"iat": ...}, "iat"), ({"iat": "1772352000"}, "iat"), ({"iat": True}, "iat"),
    ({"iat": -1}, "iat"), ({"iat": 10**18}, "iat"), ({"iat": None}, "iat"),
    ({"iss": ...}, "iss"), ({"iss": ["G01"]}, "iss"), ({"iss": "G 01"}, "iss"),
    ({"kind": ...}, "kind"), ({"kind": {}}, "kind"),
    ({"employee": ...}, "employee"), ({"employee": "CB0000001"}, "employee"),
    ({"employee": {}}, "employee"), ({"employee": {"employeeCode": 1}}, "employee.employeeCode"),
    ({"employee": {"personalId": ["0"]}}, "employee.personalId"),
    ({"baseVersion": "3"}, "baseVersion"), ({"baseVersion": 0}, "baseVersion"),
    ({"baseVersion": 2.0}, "baseVersion"), ({"baseVersion": False}, "baseVersion"),
    ({"change": [1]}, "change"), ({"sourceSystem": 5}, "sourceSystem"),
])
def test_missing_and_ill_typed_claims_are_refused(overrides: dict[str, Any], field: str
                                                  ) -> None:
    agency = signer()
    error = rejected(sign_submission(claims(**overrides), agency.private), agency)
    assert (error.code, error.field) == (MISSING_CLAIMS, field)


def test_optional_claims_may_be_absent_or_null() -> None:
    agency = signer()
    registration = claims(baseVersion=..., change=..., sourceSystem=...,
                          employee={"personalId": "001090012345", "employeeCode": None})
    assert verify(sign_submission(registration, agency.private), agency).payload == registration
    fractional = claims(iat=(NOW - timedelta(seconds=90)).timestamp() + 0.25)
    assert verify(sign_submission(fractional, agency.private), agency).signed_at < NOW


# -- malformed --------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    b"not json", b"[1, 2]", b'"a string"', b"null", b"\xff\xfe{}",
    b'{"jti": "a", "jti": "b"}', b'{"iat": NaN}', b'{"iat": 1e400}',
    b'{"jti": "a\\u0000b"}', b'{"jti": "\\ud800"}', b"[" * 50_000 + b"]" * 50_000,
    # beyond 64 bits, anywhere (the inbox could not keep the payload)
    b'{"iat": 100000000000000000000}', b'{"change": {"memberId": [-9223372036854775809]}}',
])
def test_payloads_that_are_not_one_storable_json_object_are_malformed(body: bytes) -> None:
    agency = signer()
    assert code_of(sign_submission(body, agency.private), agency) == MALFORMED


def test_an_oversized_payload_is_malformed_before_anything_else() -> None:
    agency = signer()
    big = claims(change={"note": "x" * MAX_PAYLOAD_BYTES})
    error = rejected(sign_submission(big, agency.private), agency)
    assert error.code == MALFORMED
    assert "oversized" in error.message
    fits = claims(change={"note": "x" * (MAX_PAYLOAD_BYTES - 1000)})
    assert verify(sign_submission(fits, agency.private), agency).kid == agency.kid
    assert code_of("a" * 10_000_000, agency) == MALFORMED


@pytest.mark.parametrize("token", [
    "", ".", "..", "...", "a.b", "a.b.c.d", "eyJ.eyJ.", "  ", "not a token",
    "e30.e30.e30=", "e30.e30.e3=0", "e30.e30.e3+0", "e30 .e30.e30", "ey\u00e9.e30.e30",
])
def test_strings_that_are_not_a_compact_jws_are_malformed(token: str) -> None:
    assert code_of(token, signer()) == MALFORMED


@pytest.mark.parametrize("value", [None, 12, b"a.b.c", ["a", "b", "c"]])
def test_values_that_are_not_strings_are_malformed(value: Any) -> None:
    assert code_of(value, signer()) == MALFORMED


def test_non_canonical_base64_does_not_pass_for_the_same_token() -> None:
    agency = signer("EdDSA")
    token = sign_submission(claims(), agency.private)
    head, payload, signature = token.split(".")
    # An Ed25519 signature is 64 bytes: 86 characters, the last carrying 2 unused bits.
    assert len(signature) == 86
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(signature[-1])
    sibling = signature[:-1] + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[last | 1]
    assert sibling != signature
    assert code_of(f"{head}.{payload}.{sibling}", agency) == MALFORMED
    assert code_of(f"{head}.{payload}.{signature}==", agency) == MALFORMED


def test_kid_of_reads_the_header_without_verifying() -> None:
    agency = signer()
    assert kid_of(sign_submission(claims(), agency.private)) == agency.kid
    assert kid_of("garbage") is None


# -- the employee's co-signature --------------------------------------------------------------

def employee_signer(algorithm: str = "EdDSA", code: str = "CB0000001", **validity: Any
                    ) -> Signer:
    return signer(algorithm, owner_kind="employee", owner_id=code, index=2, **validity)


def co_verify(token: str, payload: dict[str, Any], *signers: Signer,
              employee_code: str = "CB0000001") -> SignedSubmission:
    return verify_co_signature(token, payload, SignerKeys(s.record for s in signers),
                               employee_code, now=NOW)


def co_code(token: str, payload: dict[str, Any], *signers: Signer,
            employee_code: str = "CB0000001") -> str:
    with pytest.raises(SignatureRejected) as caught:
        co_verify(token, payload, *signers, employee_code=employee_code)
    return caught.value.code


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_co_signature_over_the_same_payload_is_accepted(algorithm: str) -> None:
    agency, employee = signer(), employee_signer(algorithm)
    payload = claims(kind="asset-declaration")
    first = verify(sign_submission(payload, agency.private), agency, employee)
    # The employee's system serialises the payload its own way: same JSON value, other bytes.
    reordered = json.dumps(dict(reversed(list(payload.items()))), indent=1).encode()
    second = co_verify(sign_submission(reordered, employee.private), first.payload, agency,
                       employee)
    assert (second.owner_kind, second.owner_id) == ("employee", "CB0000001")
    assert second.canonical == first.canonical


@pytest.mark.parametrize("changed", [
    {"change": {"positionCode": "P-08", "effectiveFrom": "2026-03-01"}},
    {"baseVersion": 4}, {"jti": "g01-change-0002"}, {"baseVersion": 3.0},
    {"employee": {"employeeCode": "CB0000001", "personalId": "001090012345", "x": None}},
])
def test_a_co_signature_over_another_payload_is_refused(changed: dict[str, Any]) -> None:
    employee = employee_signer()
    token = sign_submission(claims(**changed), employee.private)
    assert co_code(token, claims(), employee) == PAYLOAD_MISMATCH


def test_a_co_signature_must_be_the_named_employees() -> None:
    agency, employee, colleague = signer(), employee_signer(), employee_signer(code="CB0000002")
    payload = claims()
    assert co_code(sign_submission(payload, agency.private), payload, agency) == WRONG_SIGNER
    assert co_code(sign_submission(payload, colleague.private), payload, colleague
                   ) == WRONG_SIGNER
    assert co_code(sign_submission(payload, employee.private), payload, employee,
                   employee_code="CB0000002") == WRONG_SIGNER


def test_a_co_signature_follows_the_same_key_rules() -> None:
    payload = claims()
    expired = employee_signer(valid_until=NOW - timedelta(hours=1))
    assert co_code(sign_submission(payload, expired.private), payload, expired) == KEY_EXPIRED
    revoked = employee_signer(revoked_at=NOW - timedelta(hours=1))
    assert co_code(sign_submission(payload, revoked.private), payload, revoked) == KEY_REVOKED
    employee = employee_signer()
    forged = sign_submission(payload, signer("EdDSA", index=3).private, kid=employee.kid)
    assert co_code(forged, payload, employee) == BAD_SIGNATURE
    assert co_code("x.y", payload, employee) == MALFORMED
