"""The population registry over real HTTP: lookups, verification, auth and hostile input."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from tests.sandbox.sandbox_testkit import CITIZENS, POPULATION_KEY, UNKNOWN_ID, Services

CITIZEN_FIELDS = {"personalId", "fullName", "birthDate", "sex", "ethnicity", "religion",
                  "nationality", "placeOfOrigin", "permanentAddress", "currentAddress",
                  "fatherId", "motherId", "spouseId", "deathDate", "updatedAt"}
AN, BINH, CUONG = CITIZENS[0], CITIZENS[1], CITIZENS[2]


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    return error


async def test_batch_returns_found_citizens_and_not_found_ids(
        population: httpx.AsyncClient) -> None:
    ids = [AN["personal_id"], UNKNOWN_ID, CUONG["personal_id"], AN["personal_id"]]
    response = await population.post("/v1/citizens/batch", json={"personalIds": ids})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert sorted(c["personalId"] for c in body["citizens"]) == sorted(
        [AN["personal_id"], CUONG["personal_id"]])
    assert body["notFound"] == [UNKNOWN_ID]


async def test_citizen_shape(population: httpx.AsyncClient) -> None:
    response = await population.post("/v1/citizens/batch",
                                      json={"personalIds": [AN["personal_id"]]})
    [citizen] = response.json()["citizens"]
    assert set(citizen) == CITIZEN_FIELDS
    assert citizen["fullName"] == "Nguyễn Văn An"
    assert citizen["birthDate"] == "1985-03-12"
    assert citizen["sex"] == "male"
    assert citizen["ethnicity"] == "Kinh"  # the column default
    assert citizen["spouseId"] == BINH["personal_id"]
    assert citizen["deathDate"] is None
    assert citizen["updatedAt"].startswith("20")


async def test_empty_batch(population: httpx.AsyncClient) -> None:
    response = await population.post("/v1/citizens/batch", json={"personalIds": []})
    assert response.json() == {"citizens": [], "notFound": []}


@pytest.mark.parametrize(("count", "status"), [(500, 200), (501, 413)])
async def test_batch_cap(population: httpx.AsyncClient, count: int, status: int) -> None:
    ids = [f"{n:012d}" for n in range(count)]
    response = await population.post("/v1/citizens/batch", json={"personalIds": ids})
    assert response.status_code == status
    if status == 413:
        error = assert_error(response, 413, "BATCH_TOO_LARGE")
        assert error["maxBatch"] == 500
    else:
        assert len(response.json()["notFound"]) == 500


HOSTILE_BODIES: list[tuple[str, bytes]] = [
    ("not JSON", b"personalIds=001085000001"),
    ("empty", b""),
    ("invalid UTF-8", b'{"personalIds": ["\xff\xfe"]}'),
    ("array body", b'["001085000001"]'),
    ("string body", b'"001085000001"'),
    ("null body", b"null"),
    ("missing field", b"{}"),
    ("misspelt field", b'{"personalIDs": ["001085000001"]}'),
    ("extra field", b'{"personalIds": [], "limit": 5}'),
    ("ids not a list", b'{"personalIds": "001085000001"}'),
    ("ids an object", b'{"personalIds": {"$in": ["001085000001"]}}'),
    ("number id", b'{"personalIds": [1085000001]}'),
    ("null id", b'{"personalIds": [null]}'),
    ("object id", b'{"personalIds": [{"$ne": null}]}'),
    ("11 digits", b'{"personalIds": ["00108500000"]}'),
    ("13 digits", b'{"personalIds": ["0010850000011"]}'),
    ("letters", b'{"personalIds": ["00108500000A"]}'),
    ("SQL injection", b'{"personalIds": ["\' OR 1=1 --"]}'),
    ("SQL in digits", b'{"personalIds": ["001085000001\'; DROP TABLE citizen; --"]}'),
    ("padded", b'{"personalIds": [" 001085000001"]}'),
    ("trailing newline", b'{"personalIds": ["001085000001\\n"]}'),
    ("non-ASCII digits", '{"personalIds": ["٠٠١٠٨٥٠٠٠٠٠١"]}'.encode()),
    ("deep nesting", b'{"personalIds": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
    ("huge id", b'{"personalIds": ["' + b"1" * 200_000 + b'"]}'),
]


@pytest.mark.parametrize("body", [b for _, b in HOSTILE_BODIES],
                         ids=[name for name, _ in HOSTILE_BODIES])
async def test_batch_rejects_malformed_input(population: httpx.AsyncClient, body: bytes) -> None:
    response = await population.post("/v1/citizens/batch", content=body,
                                     headers={"content-type": "application/json"})
    assert_error(response, 400, "BAD_REQUEST")
    assert len(response.content) < 600  # the message never echoes a huge input


async def test_oversize_body_is_refused(population: httpx.AsyncClient) -> None:
    body = orjson.dumps({"personalIds": ["001085000001"] * 100_000})  # ~1.5 MB
    response = await population.post("/v1/citizens/batch", content=body)
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


async def test_single_lookup(population: httpx.AsyncClient) -> None:
    response = await population.get(f"/v1/citizens/{CUONG['personal_id']}")
    assert response.status_code == 200
    citizen = response.json()
    assert set(citizen) == CITIZEN_FIELDS
    assert citizen["deathDate"] == "2023-05-01"


async def test_single_lookup_not_found(population: httpx.AsyncClient) -> None:
    assert_error(await population.get(f"/v1/citizens/{UNKNOWN_ID}"), 404, "NOT_FOUND")


@pytest.mark.parametrize("raw", ["12345", "0010850000011", "%27%20OR%201%3D1%20--",
                                 "1" * 5000, "00108500000%0A"])
async def test_single_lookup_rejects_malformed_id(population: httpx.AsyncClient,
                                                  raw: str) -> None:
    response = await population.get(f"/v1/citizens/{raw}")
    assert_error(response, 400, "BAD_REQUEST")
    assert len(response.content) < 600


def verify_body(**overrides: object) -> dict[str, object]:
    return {"personalId": AN["personal_id"], "fullName": "Nguyễn Văn An",
            "birthDate": "1985-03-12", "sex": "male", **overrides}


async def test_verify_match(population: httpx.AsyncClient) -> None:
    response = await population.post("/v1/identity/verify", json=verify_body())
    assert response.json() == {"personalId": AN["personal_id"], "exists": True, "match": True,
                               "mismatches": [], "alive": True}


async def test_verify_name_ignores_case_spacing_and_composition(
        population: httpx.AsyncClient) -> None:
    decomposed = "  nguyê\u0303n   VĂN an "  # ễ as e + circumflex + combining tilde
    response = await population.post("/v1/identity/verify",
                                     json=verify_body(fullName=decomposed))
    assert response.json()["match"] is True


async def test_verify_mismatches(population: httpx.AsyncClient) -> None:
    response = await population.post("/v1/identity/verify", json=verify_body(
        fullName="Nguyen Van An", birthDate="1985-03-13", sex="female"))
    body = response.json()
    assert body["exists"] is True
    assert body["match"] is False
    assert body["mismatches"] == ["fullName", "birthDate", "sex"]


async def test_verify_deceased_and_unknown(population: httpx.AsyncClient) -> None:
    deceased = await population.post("/v1/identity/verify", json=verify_body(
        personalId=CUONG["personal_id"], fullName="Lê Văn Cường", birthDate="1975-01-20"))
    assert deceased.json()["match"] is True
    assert deceased.json()["alive"] is False
    unknown = await population.post("/v1/identity/verify", json=verify_body(personalId=UNKNOWN_ID))
    assert unknown.json() == {"personalId": UNKNOWN_ID, "exists": False, "match": False,
                              "mismatches": [], "alive": False}


@pytest.mark.parametrize("body", [
    {"personalId": AN["personal_id"]},
    verify_body(sex="M"),
    verify_body(sex=None),
    verify_body(birthDate="12/03/1985"),
    verify_body(birthDate="1985-02-30"),
    verify_body(birthDate=19850312),
    verify_body(fullName=""),
    verify_body(fullName=["Nguyễn Văn An"]),
    verify_body(fullName="A" * 10_000),
    verify_body(personalId="' OR ''='"),
    verify_body(extra=True),
], ids=["only id", "sex code", "sex null", "date format", "impossible date", "date number",
        "empty name", "name list", "huge name", "SQL id", "extra field"])
async def test_verify_rejects_malformed_input(population: httpx.AsyncClient,
                                              body: dict[str, object]) -> None:
    response = await population.post("/v1/identity/verify", json=body)
    assert_error(response, 400, "BAD_REQUEST")
    assert len(response.content) < 600


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/v1/citizens/batch"), ("GET", f"/v1/citizens/{AN['personal_id']}"),
    ("POST", "/v1/identity/verify")])
@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": ""},
                                     {"Authorization": f"Bearer {POPULATION_KEY}"}],
                         ids=["none", "wrong", "empty", "bearer"])
async def test_auth_required(anonymous: httpx.AsyncClient, services: Services, method: str,
                             path: str, headers: dict[str, str]) -> None:
    response = await anonymous.request(method, services.population + path, headers=headers,
                                       json={"personalIds": [AN["personal_id"]]})
    assert_error(response, 401, "UNAUTHORIZED")


async def test_unknown_path_and_method_answer_in_the_vendor_envelope(
        population: httpx.AsyncClient) -> None:
    assert_error(await population.get("/v2/citizens"), 404, "NOT_FOUND")
    assert_error(await population.delete("/v1/identity/verify"), 405, "METHOD_NOT_ALLOWED")
