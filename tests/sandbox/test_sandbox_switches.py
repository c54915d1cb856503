"""Fault switches and request statistics, on all three running services."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from sandbox import SYSTEMS
from tests.sandbox.sandbox_testkit import (
    CONTROL_HEADERS,
    GRAPHQL_STAFF,
    REST_STAFF,
    Services,
    graphql,
)

OFF = {"latencyMs": 0, "errorRate": 0.0, "outage": False, "malformed": False,
       "oversizedBytes": 0, "reset": False}


@pytest.fixture(autouse=True)
async def switches_off(services: Services) -> AsyncIterator[None]:
    """Whatever a test does (or fails to undo), the next one starts with every switch off."""
    yield
    async with httpx.AsyncClient(headers=CONTROL_HEADERS) as client:
        for system in SYSTEMS:
            response = await client.put(f"{getattr(services, system)}/_sandbox/switches",
                                        json=OFF)
            assert response.status_code == 200


async def set_switches(services: Services, system: str, **switches: object) -> None:
    async with httpx.AsyncClient(headers=CONTROL_HEADERS) as client:
        response = await client.put(f"{getattr(services, system)}/_sandbox/switches",
                                    json=switches)
        assert response.status_code == 200, response.text


async def lookup(population: httpx.AsyncClient, count: int = 1) -> httpx.Response:
    ids = [f"{n:012d}" for n in range(count)]
    return await population.post("/v1/citizens/batch", json={"personalIds": ids})


@pytest.mark.parametrize("system", SYSTEMS)
async def test_switches_start_off_and_partial_updates_apply(anonymous: httpx.AsyncClient,
                                                            services: Services,
                                                            system: str) -> None:
    url = f"{getattr(services, system)}/_sandbox/switches"
    assert (await anonymous.get(url, headers=CONTROL_HEADERS)).json() == OFF
    response = await anonymous.put(url, headers=CONTROL_HEADERS, json={"latencyMs": 5})
    assert response.json() == {**OFF, "latencyMs": 5}


@pytest.mark.parametrize(("method", "path"), [("GET", "/_sandbox/switches"),
                                              ("PUT", "/_sandbox/switches"),
                                              ("POST", "/_sandbox/stats/reset")])
@pytest.mark.parametrize("headers", [{}, {"X-Sandbox-Control": "guess"}], ids=["none", "wrong"])
async def test_control_endpoints_need_the_control_key(anonymous: httpx.AsyncClient,
                                                      services: Services, method: str,
                                                      path: str, headers: dict[str, str]) -> None:
    for system in SYSTEMS:
        response = await anonymous.request(method, getattr(services, system) + path,
                                           headers=headers, json={"outage": True})
        assert response.status_code == 403
    health = await anonymous.get(services.population + "/healthz")
    assert health.json() == {"status": "ok"}  # and nothing was switched


@pytest.mark.parametrize("body", [
    {"latencyMs": -1}, {"latencyMs": "100"}, {"latencyMs": True}, {"latencyMs": 1.5},
    {"latencyMs": 10**9}, {"errorRate": 1.5}, {"errorRate": "0.5"}, {"errorRate": None},
    {"outage": "yes"}, {"outage": 1}, {"malformed": None}, {"speed": 1}, [],
])
async def test_invalid_switch_values_are_refused(anonymous: httpx.AsyncClient,
                                                 services: Services, body: object) -> None:
    url = services.population + "/_sandbox/switches"
    response = await anonymous.put(url, headers=CONTROL_HEADERS, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_REQUEST"
    assert (await anonymous.get(url, headers=CONTROL_HEADERS)).json() == OFF


async def test_outage(services: Services, population: httpx.AsyncClient,
                      agency_rest: httpx.AsyncClient, agency_graphql: httpx.AsyncClient,
                      anonymous: httpx.AsyncClient) -> None:
    for system in SYSTEMS:
        await set_switches(services, system, outage=True)
    response = await lookup(population)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    response = await agency_rest.get("/api/v1/nhan-su/BTC-0001")
    assert response.status_code == 503
    assert response.json()["loi"]["ma"] == "HE_THONG_TAM_NGUNG"
    response = await graphql(agency_graphql, "{ __typename }")
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    for system in SYSTEMS:
        health = await anonymous.get(getattr(services, system) + "/healthz")
        assert health.status_code == 503
    # Even unauthenticated calls see the outage first, as they would a dead system.
    assert (await anonymous.get(services.population + "/v1/citizens/001085000001")
            ).status_code == 503


async def test_latency_is_added_to_api_calls_only(services: Services,
                                                  population: httpx.AsyncClient,
                                                  anonymous: httpx.AsyncClient) -> None:
    await set_switches(services, "population", latencyMs=300)
    started = time.perf_counter()
    assert (await lookup(population)).status_code == 200
    assert time.perf_counter() - started >= 0.3
    started = time.perf_counter()
    assert (await anonymous.get(services.population + "/healthz")).status_code == 200
    assert time.perf_counter() - started < 0.3


async def test_error_rate(services: Services, population: httpx.AsyncClient,
                          agency_rest: httpx.AsyncClient) -> None:
    await set_switches(services, "population", errorRate=1.0)
    await set_switches(services, "agency_rest", errorRate=1.0)
    for _ in range(5):
        response = await lookup(population)
        assert response.status_code == 500
        assert response.json()["error"]["code"] == "INTERNAL_ERROR"
    response = await agency_rest.get("/api/v1/nhan-su/BTC-0001")
    assert response.status_code == 500
    assert response.json()["loi"]["ma"] == "LOI_HE_THONG"
    await set_switches(services, "population", errorRate=0.5)
    statuses = {(await lookup(population)).status_code for _ in range(60)}
    assert statuses == {200, 500}  # chance of failing: 2 * 0.5**60


async def test_malformed_bodies_do_not_parse(services: Services, population: httpx.AsyncClient,
                                             agency_rest: httpx.AsyncClient,
                                             agency_graphql: httpx.AsyncClient) -> None:
    for system in SYSTEMS:
        await set_switches(services, system, malformed=True)
    responses = [
        await lookup(population),
        await population.get("/v1/citizens/099999999999"),  # a 404 is garbled too
        await agency_rest.post("/api/v1/nhan-su/tra-cuu",
                               json={"so_cccd": [REST_STAFF[0]["so_cccd"]]}),
        await graphql(agency_graphql, "query($ids: [String!]!) { staffByCitizenIds(ids: $ids) "
                                      "{ name } }", {"ids": [GRAPHQL_STAFF[0]["citizen_id"]]}),
    ]
    for response in responses:
        assert response.headers["content-type"] == "application/json"
        assert response.content
        response.content.decode("utf-8")  # broken JSON, not broken text
        with pytest.raises(orjson.JSONDecodeError):
            orjson.loads(response.content)


async def test_stats_count_calls_and_batch_sizes(services: Services, anonymous: httpx.AsyncClient,
                                                 population: httpx.AsyncClient) -> None:
    url = services.population
    reset = await anonymous.post(url + "/_sandbox/stats/reset", headers=CONTROL_HEADERS)
    assert reset.json() == {"requests": {}, "items": {}, "batchSizes": {}}
    await lookup(population, 3)
    await lookup(population, 40)
    await population.get("/v1/citizens/001085000001")
    await anonymous.get(url + "/v1/citizens/001085000001")  # refused: still an arrival
    await anonymous.get(url + "/healthz")  # not an API call
    stats = (await anonymous.get(url + "/_sandbox/stats")).json()
    assert stats["requests"] == {"citizens.batch": 2, "citizens.get": 2}
    assert stats["items"] == {"citizens.batch": 43, "citizens.get": 1}
    assert stats["batchSizes"] == {"citizens.batch": [3, 40], "citizens.get": [1]}


async def test_stats_count_faulted_calls(services: Services, anonymous: httpx.AsyncClient,
                                         population: httpx.AsyncClient) -> None:
    await anonymous.post(services.population + "/_sandbox/stats/reset", headers=CONTROL_HEADERS)
    await set_switches(services, "population", outage=True)
    for _ in range(3):
        await lookup(population)
    stats = (await anonymous.get(services.population + "/_sandbox/stats")).json()
    assert stats["requests"] == {"citizens.batch": 3}
    assert stats["items"] == {}  # refused before the body was read


async def test_graphql_stats_count_requests_and_root_fields(
        services: Services, anonymous: httpx.AsyncClient,
        agency_graphql: httpx.AsyncClient) -> None:
    url = services.agency_graphql
    await anonymous.post(url + "/_sandbox/stats/reset", headers=CONTROL_HEADERS)
    ids = [row["citizen_id"] for row in GRAPHQL_STAFF[:5]]
    await graphql(agency_graphql, "query($ids: [String!]!) { staffByCitizenIds(ids: $ids) "
                                  "{ name } }", {"ids": ids})
    await graphql(agency_graphql, '{ a: staffMember(citizenId: "001090000200") { name } '
                                  'b: staffMember(citizenId: "001090000201") { name } }')
    stats = (await anonymous.get(url + "/_sandbox/stats")).json()
    assert stats["requests"] == {"graphql": 2, "staffByCitizenIds": 1, "staffMember": 2}
    assert stats["items"] == {"staffByCitizenIds": 5, "staffMember": 2}


async def test_rest_stats(services: Services, anonymous: httpx.AsyncClient,
                          agency_rest: httpx.AsyncClient) -> None:
    url = services.agency_rest
    await anonymous.post(url + "/_sandbox/stats/reset", headers=CONTROL_HEADERS)
    await agency_rest.post("/api/v1/nhan-su/tra-cuu",
                           json={"so_cccd": [r["so_cccd"] for r in REST_STAFF[:7]]})
    await agency_rest.get("/api/v1/nhan-su/thay-doi", params={"cap_nhat_tu": "2024-01-01"})
    stats = (await anonymous.get(url + "/_sandbox/stats")).json()
    assert stats["requests"] == {"nhan_su.tra_cuu": 1, "nhan_su.thay_doi": 1}
    assert stats["items"] == {"nhan_su.tra_cuu": 7}
