"""Admission through the real hub: tokens (401), purposes (403), and what each client's
schema lets it ask for. Row scope and masks are checked against the database itself."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from typing import Any

import asyncpg
import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from hub.auth import SigningKeys, register_client, revoke_client
from hub.databases import DatabaseSet
from tests.conftest import ADMIN, GraphQLClient, HubAuthFiles, Tokens

QUERY = {"query": "{ ranks { code } }"}


def _keys(hub_auth: HubAuthFiles) -> SigningKeys:
    return SigningKeys.load_or_create(hub_auth.keys_dir / "signing.jwks", "ES256")


def _claims(hub_auth: HubAuthFiles, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": f"http://127.0.0.1:{hub_auth.port}", "sub": ADMIN[0], "client_id": ADMIN[0],
        "aud": "hub", "iat": now, "nbf": now, "exp": now + 300, "jti": f"t{now}"}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(hub_auth: HubAuthFiles, claims: dict[str, Any], **header: Any) -> str:
    key, algorithm, kid = _keys(hub_auth).signer()
    return jwt.encode({"alg": algorithm, "kid": kid, "typ": "at+jwt", **header}, claims, key,
                      algorithms=[algorithm])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _post(hub_url: str, headers: dict[str, str], body: Any = QUERY) -> httpx.Response:
    return httpx.post(f"{hub_url}/graphql", json=body, headers=headers, timeout=30)


def _refusal(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert "data" not in body, body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == code
    message: str = error["message"]
    return message


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}", "x-purpose": ADMIN[1]}


# -- 401: who is calling ---------------------------------------------------------------------

def test_a_valid_token_is_admitted(hub_url: str, hub_auth: HubAuthFiles) -> None:
    response = _post(hub_url, _bearer(_sign(hub_auth, _claims(hub_auth))))
    assert response.status_code == 200, response.text
    assert response.json()["data"]["ranks"]


def _challenge(message: str) -> str:
    """RFC 6750 §3: no error code when no token was sent, else invalid_token and why."""
    if message == "no bearer token":
        return 'Bearer realm="hub"'
    return f'Bearer realm="hub", error="invalid_token", error_description="{message}"'


def test_no_token(hub_url: str) -> None:
    response = _post(hub_url, {"x-purpose": ADMIN[1]})
    assert _refusal(response, 401, "UNAUTHENTICATED") == "no bearer token"
    assert response.headers["www-authenticate"] == 'Bearer realm="hub"'


@pytest.mark.parametrize("authorization", [
    "Bearer", "Basic dXNlcjpwYXNz", "Bearer not-a-token", "Bearer a.b",
    "Bearer a.b.c", "Bearer " + _b64(b"[1]") + "." + _b64(b"{}") + ".sig",
    "Bearer " + "x" * 20_000,
])
def test_malformed_tokens(hub_url: str, authorization: str) -> None:
    response = _post(hub_url, {"authorization": authorization, "x-purpose": ADMIN[1]})
    message = _refusal(response, 401, "UNAUTHENTICATED")
    assert response.headers["www-authenticate"] == _challenge(message)


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200,
      "nbf": int(time.time()) - 7200}, "expired"),
    ({"nbf": int(time.time()) + 3600, "exp": int(time.time()) + 7200}, "not yet valid"),
    ({"aud": "another-api"}, "audience"),
    ({"iss": "https://idp.example.org"}, "issuer"),
])
def test_tokens_with_bad_claims(hub_url: str, hub_auth: HubAuthFiles,
                                overrides: dict[str, Any], expected: str) -> None:
    token = _sign(hub_auth, _claims(hub_auth, **overrides))
    assert expected in _refusal(_post(hub_url, _bearer(token)), 401, "UNAUTHENTICATED")


def test_bad_signature(hub_url: str, hub_auth: HubAuthFiles) -> None:
    header, payload, signature = _sign(hub_auth, _claims(hub_auth)).split(".")
    other = json.loads(base64.urlsafe_b64decode(payload + "=="))
    other["client_id"] = other["sub"] = "mof-payroll"
    forged = ".".join([header, _b64(json.dumps(other).encode()), signature])
    assert "signature" in _refusal(_post(hub_url, _bearer(forged)), 401, "UNAUTHENTICATED")


def test_alg_none(hub_url: str, hub_auth: HubAuthFiles) -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "at+jwt"}).encode())
    token = f"{header}.{_b64(json.dumps(_claims(hub_auth)).encode())}."
    assert "algorithm" in _refusal(_post(hub_url, _bearer(token)), 401, "UNAUTHENTICATED")


def test_unknown_kid(hub_url: str, hub_auth: HubAuthFiles) -> None:
    stranger = ECKey.generate_key("P-256")
    token = jwt.encode({"alg": "ES256", "kid": "not-a-hub-key", "typ": "at+jwt"},
                       _claims(hub_auth), stranger, algorithms=["ES256"])
    assert "key" in _refusal(_post(hub_url, _bearer(token)), 401, "UNAUTHENTICATED")


def test_revoked_client(hub_url: str, databases: DatabaseSet, hub_auth: HubAuthFiles) -> None:
    async def setup(revoke: bool) -> None:
        conn = await asyncpg.connect(databases.national)
        try:
            if revoke:
                await revoke_client(conn, "revoked-system")
            else:
                await register_client(conn, "revoked-system", "A system about to be revoked",
                                      secret="a-secret-for-the-test", jwks=None)
        finally:
            await conn.close()

    asyncio.run(setup(revoke=False))
    token = _sign(hub_auth, _claims(hub_auth, sub="revoked-system", client_id="revoked-system"))
    headers = _bearer(token)
    deadline = time.monotonic() + 10
    while _post(hub_url, headers).status_code == 401 and time.monotonic() < deadline:
        time.sleep(0.1)  # the hub learns of the new client by NOTIFY
    # Registered but without a policy: authenticated, and refused everything.
    assert "no access policy" in _refusal(_post(hub_url, headers), 403, "FORBIDDEN")
    asyncio.run(setup(revoke=True))
    deadline = time.monotonic() + 10
    while _post(hub_url, headers).status_code != 401:
        assert time.monotonic() < deadline, "revocation did not take effect"
        time.sleep(0.1)
    assert "revoked" in _refusal(_post(hub_url, headers), 401, "UNAUTHENTICATED")


# -- 403: for which purpose ------------------------------------------------------------------

def test_purpose_is_required(hub_url: str, tokens: Tokens) -> None:
    headers = {"authorization": f"Bearer {tokens.token(ADMIN[0])}"}
    message = _refusal(_post(hub_url, headers), 403, "FORBIDDEN")
    assert "declare the purpose" in message
    assert "administration" in message


def test_undeclared_purpose_is_refused(hub_url: str, tokens: Tokens) -> None:
    headers = tokens.headers("mof-payroll", "inspection")
    assert "not declared" in _refusal(_post(hub_url, headers), 403, "FORBIDDEN")
    headers["x-purpose"] = "Not A Purpose"
    assert "not a purpose name" in _refusal(_post(hub_url, headers), 403, "FORBIDDEN")


def test_purpose_in_request_extensions(hub_url: str, tokens: Tokens) -> None:
    headers = {"authorization": f"Bearer {tokens.token(ADMIN[0])}"}
    body = {**QUERY, "extensions": {"purpose": ADMIN[1]}}
    assert _post(hub_url, headers, body).status_code == 200
    conflicting = {**headers, "x-purpose": "statistics"}
    assert "two different purposes" in _refusal(_post(hub_url, conflicting, body), 403,
                                                "FORBIDDEN")


def test_a_token_issued_for_a_purpose_serves_only_that_purpose(
        hub_url: str, tokens: Tokens, client_secrets: dict[str, str]) -> None:
    issued = httpx.post(f"{hub_url}/oauth/token",
                        data={"grant_type": "client_credentials", "purpose": "statistics"},
                        auth=(ADMIN[0], client_secrets[ADMIN[0]]))
    assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]
    # The purpose comes from the token when the request declares none: statistics counts
    # staff per agency and reads no one's record.
    ok = _post(hub_url, {"authorization": f"Bearer {token}"},
               {"query": "{ agencies { headcount } }"})
    assert all(isinstance(a["headcount"], int) for a in ok.json()["data"]["agencies"])
    names = _post(hub_url, {"authorization": f"Bearer {token}"},
                  {"query": "{ civilServants(first: 1) { nodes { fullName } } }"})
    assert names.status_code == 400
    # ...and no other purpose can be declared with it.
    other = _post(hub_url, {"authorization": f"Bearer {token}", "x-purpose": "administration"})
    assert "issued for purpose statistics" in _refusal(other, 403, "FORBIDDEN")


# -- what a client's schema holds ------------------------------------------------------------

FORBIDDEN_SHAPES = [
    "{ civilServants(first: 2) { nodes { fullName } } }",
    "{ civilServants(first: 2) { nodes { name: fullName } } }",
    "{ civilServants(first: 2) { nodes { employeeCode: fullName } } }",
    "{ civilServants(first: 2) { nodes { ...F } } } fragment F on CivilServant { fullName }",
    "{ civilServants(first: 2) { nodes { ... on CivilServant { fullName } } } }",
    "{ civilServants(first: 2) { nodes { fullName @include(if: false) } } }",
    "{ civilServants(first: 2) { nodes { fullName @skip(if: true) } } }",
    "query($no: Boolean!) { civilServants(first: 2) { nodes { fullName @include(if: $no) } } }",
    "{ agencies { employees(first: 2) { nodes { fullName } } } }",
    "{ civilServants(first: 2) { nodes { agency { children { employees { nodes { religion } } } "
    "} } } }",
    "{ civilServants(first: 2) { nodes { health { status } } } }",
    "{ civilServants(first: 2) { nodes { person { fullName } } } }",
    "{ person(personalId: \"001080012345\") { fullName } }",
    "{ civilServants(filter: {namePrefix: \"Nguyễn\"}) { totalCount } }",
]


@pytest.mark.parametrize("query", FORBIDDEN_SHAPES)
def test_forbidden_fields_fail_validation_like_missing_ones(graphql: GraphQLClient,
                                                            query: str) -> None:
    payroll = graphql.as_client("mof-payroll", "salary-budget")
    response = payroll.post(query, {"no": False} if "$no" in query else None)
    assert response.status_code == 400, response.text
    body = response.json()
    assert "data" not in body
    for error in body["errors"]:
        assert error["extensions"]["code"] == "VALIDATION_FAILED"
        assert "Did you mean" not in error["message"]
        assert re.match(r"(Cannot query field|Unknown argument|Expected value of type "
                        r"'CivilServantFilter' not to include unknown field)",
                        error["message"]), error["message"]


def test_forbidden_field_in_another_operation_or_batch(graphql: GraphQLClient,
                                                       hub_url: str) -> None:
    payroll = graphql.as_client("mof-payroll", "salary-budget")
    document = ("query Allowed { ranks { code } } "
                "query Forbidden { civilServants(first: 1) { nodes { fullName } } }")
    for name in ("Allowed", "Forbidden"):
        response = httpx.post(f"{hub_url}/graphql", headers=payroll.headers(),
                              json={"query": document, "operationName": name})
        # The whole document is validated: the forbidden operation spoils the allowed one.
        assert response.status_code == 400
        assert "data" not in response.json()
    batch = [{"query": "{ ranks { code } }"},
             {"query": "{ civilServants(first: 1) { nodes { fullName } } }"}]
    answers = httpx.post(f"{hub_url}/graphql", headers=payroll.headers(), json=batch).json()
    assert answers[0]["data"]["ranks"]
    assert "data" not in answers[1]
    assert answers[1]["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"


def test_introspection_shows_only_the_grants(graphql: GraphQLClient) -> None:
    payroll = graphql.as_client("mof-payroll", "salary-budget")
    schema = payroll.data("{ __schema { types { name fields { name } } } }")["__schema"]
    types = {t["name"]: {f["name"] for f in t["fields"] or []} for t in schema["types"]}
    assert "HealthRecord" not in types
    assert "Person" not in types
    assert "Discipline" not in types
    assert "AgencyRecord" not in types
    assert types["CivilServant"] == {
        "employeeCode", "personalId", "category", "status", "agencyCode", "position", "rank",
        "salaryStep", "salaryCoefficient", "hiredOn", "allowances", "agency"}
    one = payroll.data('{ __type(name: "CivilServant") { fields { name type { name ofType '
                       "{ name } } } } }")["__type"]
    personal_id = next(f for f in one["fields"] if f["name"] == "personalId")
    assert personal_id["type"]["ofType"]["name"] == "String"  # masked: no longer a PersonalId
    assert payroll.data('{ __type(name: "HealthRecord") { name } }')["__type"] is None


def test_filters_that_would_reveal_an_ungranted_field_are_gone(graphql: GraphQLClient) -> None:
    inspection = graphql.as_client("gov-inspectorate", "inspection")
    fields = inspection.data('{ __type(name: "CivilServantFilter") { inputFields { name } } }')
    names = {f["name"] for f in fields["__type"]["inputFields"]}
    # fullName is granted (namePrefix stays); provinceCode needs Agency.provinceCode, which
    # the inspectorate may not read.
    assert "namePrefix" in names
    assert "provinceCode" not in names


# -- rows ------------------------------------------------------------------------------------

def _scalar(databases: DatabaseSet, sql: str, *args: Any) -> Any:
    async def run() -> Any:
        conn = await asyncpg.connect(databases.national)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


def _values(databases: DatabaseSet, sql: str, *args: Any) -> list[Any]:
    async def run() -> list[Any]:
        conn = await asyncpg.connect(databases.national)
        try:
            return [r[0] for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    return asyncio.run(run())


# The city's own agencies: under its authority (.H01), not every agency located in Hà Nội.
IN_HANOI = ("SELECT e.{} FROM employee e JOIN agency a ON a.code = e.agency_code "
            "WHERE a.authority {} 'H01' ORDER BY 1")
# Staff of central agencies that are located in Hà Nội: not the city's to manage.
CENTRAL_IN_HANOI = ("SELECT e.{} FROM employee e JOIN agency a ON a.code = e.agency_code "
                    "WHERE a.province_code = '01' AND a.authority LIKE 'G%' ORDER BY 1")


def test_a_province_sees_its_own_employees_only(graphql: GraphQLClient,
                                                databases: DatabaseSet) -> None:
    hanoi = graphql.as_client("hanoi-doha", "personnel-management")
    expected = _values(databases, IN_HANOI.format("employee_code", "="))
    assert expected, "the seed has employees in Hà Nội"
    seen: list[str] = []
    after = None
    while True:
        page = hanoi.data("query($a: String) { civilServants(first: 100, after: $a) { "
                          "totalCount pageInfo { hasNextPage endCursor } nodes { "
                          "employeeCode agency { authority } } } }", {"a": after})
        connection = page["civilServants"]
        assert connection["totalCount"] == len(expected)
        seen += [n["employeeCode"] for n in connection["nodes"]]
        assert {n["agency"]["authority"] for n in connection["nodes"]} <= {"H01"}
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == expected


def test_rows_outside_the_province_are_not_found(graphql: GraphQLClient,
                                                 databases: DatabaseSet) -> None:
    hanoi = graphql.as_client("hanoi-doha", "personnel-management")
    outsider = _values(databases, IN_HANOI.format("employee_code", "<>"))[0]
    outsider_id = _values(databases, IN_HANOI.format("personal_id", "<>"))[0]
    central = _values(databases, CENTRAL_IN_HANOI.format("employee_code"))[0]
    other_agency = _scalar(databases, "SELECT code FROM agency WHERE province_code <> '01' "
                                      "ORDER BY code LIMIT 1")
    ministry = _scalar(databases, "SELECT code FROM agency WHERE province_code = '01' "
                                  "AND authority LIKE 'G%' ORDER BY code LIMIT 1")
    for query, variables in [
        ("query($c: String!) { civilServant(employeeCode: $c) { fullName } }",
         {"c": central}),
        ("query($c: String!) { agency(code: $c) { name } }", {"c": ministry}),
        ("query($c: String!) { civilServant(employeeCode: $c) { fullName } }",
         {"c": outsider}),
        ("query($p: PersonalId!) { civilServantByPersonalId(personalId: $p) { fullName } }",
         {"p": outsider_id}),
        ("query($c: String!) { agency(code: $c) { name } }", {"c": other_agency}),
    ]:
        result = hanoi.query(query, variables)
        assert result["errors"][0]["extensions"]["code"] == "NOT_FOUND", result
        assert not any(result["data"].values())


def test_agencies_and_their_employees_stay_in_the_province(graphql: GraphQLClient) -> None:
    hanoi = graphql.as_client("hanoi-doha", "personnel-management")
    data = hanoi.data("{ agencies { code authority headcount parent { authority } "
                      "children { authority employees(first: 100) { nodes { "
                      "agency { authority } } } } employees(first: 100) { totalCount nodes "
                      "{ agency { authority } } } } }")
    assert data["agencies"]
    for agency in data["agencies"]:
        assert agency["authority"] == "H01"
        assert agency["code"].endswith(".H01")
        assert agency["parent"] is None or agency["parent"]["authority"] == "H01"
        assert agency["employees"]["totalCount"] == agency["headcount"]
        nested = [n for child in agency["children"] for n in child["employees"]["nodes"]]
        for node in agency["employees"]["nodes"] + nested:
            assert node["agency"]["authority"] == "H01"


def test_person_civil_servant_obeys_the_row_filter(graphql: GraphQLClient,
                                                   databases: DatabaseSet) -> None:
    recruitment = graphql.as_client("hanoi-doha", "recruitment")
    query = ("query($p: PersonalId!) { person(personalId: $p) { fullName "
             "civilServant { employeeCode agency { code } } } }")
    inside = _values(databases, IN_HANOI.format("personal_id", "="))[0]
    outside = _values(databases, CENTRAL_IN_HANOI.format("personal_id"))[0]
    assert recruitment.data(query, {"p": inside})["person"]["civilServant"] is not None
    answer = recruitment.data(query, {"p": outside})["person"]
    assert answer["fullName"]
    assert answer["civilServant"] is None


def test_row_filter_on_status(graphql: GraphQLClient, databases: DatabaseSet) -> None:
    payroll = graphql.as_client("mof-payroll", "salary-budget")
    count = _scalar(databases, "SELECT count(*) FROM employee WHERE status = ANY($1)",
                    ["active", "suspended", "on_leave"])
    data = payroll.data("{ civilServants(first: 100) { totalCount nodes { status } } }")
    assert data["civilServants"]["totalCount"] == count
    assert {n["status"] for n in data["civilServants"]["nodes"]} <= {
        "ACTIVE", "SUSPENDED", "ON_LEAVE"}


# -- masks -----------------------------------------------------------------------------------

def test_masks(graphql: GraphQLClient) -> None:
    query = "{ civilServant(employeeCode: $CODE) { personalId birthDate } }"
    admin = graphql.data("{ civilServants(first: 5) { nodes { employeeCode personalId "
                         "birthDate } } }")["civilServants"]["nodes"]
    inspection = graphql.as_client("gov-inspectorate", "inspection")
    payroll = graphql.as_client("mof-payroll", "salary-budget")
    hashes = set()
    for person in admin:
        code = json.dumps(person["employeeCode"])
        seen = inspection.data(query.replace("$CODE", code))["civilServant"]
        assert seen["personalId"] == "********" + person["personalId"][-4:]
        assert seen["birthDate"] == int(person["birthDate"][:4])
        paid = payroll.data(query.replace("$CODE", code).replace(" birthDate", ""))
        token = paid["civilServant"]["personalId"]
        assert re.fullmatch(r"[0-9a-f]{32}", token)
        assert person["personalId"] not in token
        assert payroll.data(query.replace("$CODE", code).replace(" birthDate", "")) == paid
        hashes.add(token)
    assert len(hashes) == len(admin)  # pseudonyms still tell people apart


def test_redact_shows_presence_not_content(graphql: GraphQLClient) -> None:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:  # every Hà Nội employee, as the administrator sees them
        page = graphql.data(
            "query($a: String) { civilServants(first: 100, after: $a, filter: {provinceCode: "
            '"01"}) { pageInfo { hasNextPage endCursor } nodes { employeeCode '
            "agency { authority } agencyRecord { pendingDiscipline } } } }",
            {"a": after})["civilServants"]
        nodes += [n for n in page["nodes"] if n["agency"]["authority"] == "H01"
                  and n["agencyRecord"] is not None]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    pending = [n for n in nodes if n["agencyRecord"]["pendingDiscipline"] is not None]
    clean = [n for n in nodes if n["agencyRecord"]["pendingDiscipline"] is None]
    assert pending, "the seed gives some Hà Nội employees a pending case in the city's system"
    assert clean
    hanoi = graphql.as_client("hanoi-doha", "personnel-management")
    query = ("query($c: String!) { civilServant(employeeCode: $c) { "
             "agencyRecord { pendingDiscipline } } }")
    for node, expected in [(pending[0], "[redacted]"), (clean[0], None)]:
        seen = hanoi.data(query, {"c": node["employeeCode"]})["civilServant"]
        assert seen["agencyRecord"]["pendingDiscipline"] == expected


# -- batches and extensions: malformed and boundary ------------------------------------------

@pytest.mark.parametrize(("body", "message"), [
    ([], "a batch holds 1 to 20 operations"),
    ([{"query": "{ ranks { code } }"}] * 21, "a batch holds 1 to 20 operations"),
    ([{"query": "{ ranks { code } }"}, 5], "each operation of a batch must be a JSON object"),
    ({"query": "{ ranks { code } }", "extensions": [1]}, "`extensions` must be a JSON object"),
])
def test_malformed_batches_and_extensions(hub_url: str, admin_headers: dict[str, str],
                                          body: Any, message: str) -> None:
    response = _post(hub_url, admin_headers, body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == message


def test_a_batch_of_twenty_is_answered_in_order(hub_url: str,
                                                admin_headers: dict[str, str]) -> None:
    batch = [{"query": f"{{ n{i}: ranks {{ code }} }}"} for i in range(20)]
    answers = _post(hub_url, admin_headers, batch).json()
    assert [next(iter(a["data"])) for a in answers] == [f"n{i}" for i in range(20)]


def test_a_batch_without_a_token_is_one_401(hub_url: str) -> None:
    response = _post(hub_url, {"x-purpose": ADMIN[1]}, [QUERY, QUERY])
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="hub"'
    assert all(a["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
               for a in response.json())


def test_a_purpose_that_is_not_a_string(hub_url: str, tokens: Tokens) -> None:
    headers = {"authorization": f"Bearer {tokens.token(ADMIN[0])}"}
    body = {**QUERY, "extensions": {"purpose": ["administration"]}}
    assert _refusal(_post(hub_url, headers, body), 403, "FORBIDDEN") == (
        "`extensions.purpose` must be a string")


def test_answers_are_not_cached(hub_url: str, admin_headers: dict[str, str]) -> None:
    for response in (_post(hub_url, admin_headers),
                     httpx.get(f"{hub_url}/graphql", params=QUERY, headers=admin_headers)):
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
