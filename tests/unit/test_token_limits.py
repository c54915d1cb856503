"""Which client a token request claims to be (unverified: it only picks the allowance)."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.auth.token_limits import claimed_client


def basic(value: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(value.encode()).decode()}


def assertion(claims: object) -> str:
    segment = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJFUzI1NiJ9.{segment}.c2ln"


@pytest.mark.parametrize(("headers", "body", "expected"), [
    ({}, b"grant_type=client_credentials&client_id=mof-payroll", "mof-payroll"),
    (basic("mof-payroll:secret"), b"grant_type=client_credentials", "mof-payroll"),
    (basic("mof%2Dpayroll:secret"), b"", "mof-payroll"),  # RFC 6749 2.3.1: form-encoded
    ({}, b"client_assertion=" + assertion({"sub": "hanoi-doha", "iss": "hanoi-doha"}).encode(),
     "hanoi-doha"),
    # the form's client_id first: it is what the server checks the credentials against
    (basic("other:secret"), b"client_id=mof-payroll", "mof-payroll"),
    ({}, b"grant_type=client_credentials", "-"),
    (basic("no-colon"), b"", "-"),
    ({"authorization": "Basic !!!"}, b"", "-"),
    ({"authorization": "Bearer x"}, b"", "-"),
    ({}, b"client_id=" + b"x" * 200, "-"),
    ({}, b"client_id=a%00b", "-"),
    ({}, b"\xff\xfe", "-"),
    ({}, b"client_assertion=not.a-jwt", "-"),
    ({}, b"client_assertion=" + assertion(["sub"]).encode(), "-"),
    ({}, b"client_assertion=" + assertion({"sub": 42}).encode(), "-"),
])
def test_the_claimed_client(headers: dict[str, str], body: bytes, expected: str) -> None:
    assert claimed_client(headers, body) == expected


@given(st.dictionaries(st.sampled_from(["authorization", "content-type"]), st.text()),
       st.binary(max_size=2_000))
def test_any_request_names_a_printable_bounded_id(headers: dict[str, str],
                                                  body: bytes) -> None:
    claimed = claimed_client(headers, body)
    assert claimed == "-" or (claimed.isprintable() and 1 <= len(claimed) <= 128)
