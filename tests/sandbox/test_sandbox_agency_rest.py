"""The Ministry of Finance HR system over real HTTP: lookups, change feed, auth, bad input."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from sandbox.agency_rest.codes import DISCIPLINE_FORMS, POSITION_CODES, national_rank_code
from tests.sandbox.sandbox_testkit import (
    FEED_START,
    REST_DECISIONS,
    REST_STAFF,
    REST_TOKEN,
    UNKNOWN_ID,
    Services,
)

NHAN_SU_FIELDS = {"ma_nhan_su", "so_cccd", "ho_va_ten", "ngay_sinh", "gioi_tinh", "ma_don_vi",
                  "ten_phong_ban", "chuc_vu", "ma_ngach", "bac_luong", "he_so_luong",
                  "ky_luat_dang_xu_ly", "dia_chi_thuong_tru", "ngay_tuyen_dung", "ngay_cap_nhat",
                  "ky_luat"}
KY_LUAT_FIELDS = {"so_quyet_dinh", "ngay_quyet_dinh", "hinh_thuc", "co_quan_ban_hanh", "ly_do",
                  "hieu_luc_tu", "hieu_luc_den"}
BY_ID = {row["ma_nhan_su"]: row for row in REST_STAFF}
FEED = "/api/v1/nhan-su/thay-doi"


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["loi"]
    assert error["ma"] == code
    assert error["thong_bao"]


async def test_lookup_in_vendor_format(agency_rest: httpx.AsyncClient) -> None:
    wanted = [REST_STAFF[0]["so_cccd"], REST_STAFF[3]["so_cccd"], UNKNOWN_ID]
    response = await agency_rest.post("/api/v1/nhan-su/tra-cuu", json={"so_cccd": wanted})
    assert response.status_code == 200
    body = response.json()
    assert body["so_ban_ghi"] == 2
    assert {r["so_cccd"] for r in body["du_lieu"]} == set(wanted[:2])
    record = next(r for r in body["du_lieu"] if r["so_cccd"] == REST_STAFF[0]["so_cccd"])
    expected = REST_STAFF[0]
    assert set(record) == NHAN_SU_FIELDS
    assert record["ngay_sinh"] == expected["ngay_sinh"].isoformat()
    assert record["he_so_luong"] == float(expected["he_so_luong"])
    assert isinstance(record["he_so_luong"], float)
    assert record["chuc_vu"] in POSITION_CODES
    assert national_rank_code(record["ma_ngach"]) in {"01.003", "01.002", "06.031",
                                                      "V.07.01.03", "V.08.01.03"}
    assert record["gioi_tinh"] in ("Nam", "Nữ")
    assert record["ngay_tuyen_dung"] == expected["ngay_tuyen_dung"].isoformat()
    assert record["ky_luat"] == []


def expected_decisions(local_id: str) -> list[dict[str, Any]]:
    """The vendor JSON of an employee's decisions, in decision order."""
    rows = sorted((d for d in REST_DECISIONS if d["ma_nhan_su"] == local_id),
                  key=lambda d: d["ngay_quyet_dinh"])
    return [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in d.items()
             if k != "ma_nhan_su"} for d in rows]


async def test_every_answer_carries_the_decisions(agency_rest: httpx.AsyncClient) -> None:
    """Lookup, single record and change feed all nest each record's decisions (vendor form
    codes), in decision order, and only its own."""
    by_local = {r["ma_nhan_su"]: r for r in REST_STAFF}
    wanted = [by_local[i]["so_cccd"] for i in ("BTC-0005", "BTC-0006", "BTC-0007")]
    lookup = (await agency_rest.post("/api/v1/nhan-su/tra-cuu",
                                     json={"so_cccd": wanted})).json()["du_lieu"]
    one = (await agency_rest.get("/api/v1/nhan-su/BTC-0005")).json()
    feed = await read_feed(agency_rest, {"cap_nhat_tu": FEED_START.isoformat(),
                                         "gioi_han": "3"})
    for records in (lookup, [one], feed):
        for record in records:
            assert set(record) == NHAN_SU_FIELDS
            assert record["ky_luat"] == expected_decisions(record["ma_nhan_su"])
            for decision in record["ky_luat"]:
                assert set(decision) == KY_LUAT_FIELDS
                assert decision["hinh_thuc"] in DISCIPLINE_FORMS
    assert [d["so_quyet_dinh"] for d in one["ky_luat"]] == ["12/QĐ-BTC", "45/QĐ-BTC"]
    assert next(r for r in lookup if r["ma_nhan_su"] == "BTC-0006")["ky_luat"][0][
        "hieu_luc_den"] is None


@pytest.mark.parametrize(("count", "status"), [(1000, 200), (1001, 413)])
async def test_lookup_cap(agency_rest: httpx.AsyncClient, count: int, status: int) -> None:
    ids = [f"{n:012d}" for n in range(count)]
    response = await agency_rest.post("/api/v1/nhan-su/tra-cuu", json={"so_cccd": ids})
    assert response.status_code == status
    if status == 413:
        assert_error(response, 413, "VUOT_GIOI_HAN")


@pytest.mark.parametrize("body", [
    b"so_cccd=001080000100", b"[]", b'{"so_cccd": "001080000100"}', b'{"cccd": []}',
    b'{"so_cccd": [1080000100]}', b'{"so_cccd": ["\' OR 1=1 --"]}',
    b'{"so_cccd": ["' + b"9" * 100_000 + b'"]}', b'{"so_cccd": [], "x": 1}',
], ids=["form", "array", "string ids", "wrong field", "number id", "SQL", "huge", "extra"])
async def test_lookup_rejects_malformed_input(agency_rest: httpx.AsyncClient,
                                              body: bytes) -> None:
    response = await agency_rest.post("/api/v1/nhan-su/tra-cuu", content=body)
    assert_error(response, 400, "YEU_CAU_KHONG_HOP_LE")
    assert len(response.content) < 600


async def test_single_record(agency_rest: httpx.AsyncClient) -> None:
    response = await agency_rest.get("/api/v1/nhan-su/BTC-0003")
    assert response.status_code == 200
    assert response.json()["ky_luat_dang_xu_ly"] == "Đang xem xét kỷ luật"
    assert_error(await agency_rest.get("/api/v1/nhan-su/BTC-9999"), 404, "KHONG_TIM_THAY")
    assert_error(await agency_rest.get("/api/v1/nhan-su/%27%20OR%201%3D1"), 404,
                 "KHONG_TIM_THAY")
    assert_error(await agency_rest.get("/api/v1/nhan-su/" + "x" * 5000), 400,
                 "YEU_CAU_KHONG_HOP_LE")
    assert_error(await agency_rest.get("/api/v1/nhan-su/a%00b"), 400, "YEU_CAU_KHONG_HOP_LE")


async def read_feed(client: httpx.AsyncClient, params: dict[str, str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for _ in range(100):
        response = await client.get(FEED, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        rows += page["du_lieu"]
        if page["con_tro_tiep"] is None:
            return rows
        params = {**params, "con_tro": page["con_tro_tiep"]}
    raise AssertionError("the feed never ended")


def feed_order(rows: list[dict[str, Any]]) -> list[str]:
    return [r["ma_nhan_su"] for r in sorted(rows, key=lambda r: (r["ngay_cap_nhat"],
                                                                 r["ma_nhan_su"]))]


@pytest.mark.parametrize("page_size", [1, 3, 4, 7, 25, 1000])
async def test_feed_returns_every_row_once_in_order(agency_rest: httpx.AsyncClient,
                                                    page_size: int) -> None:
    rows = await read_feed(agency_rest, {"cap_nhat_tu": FEED_START.isoformat(),
                                         "gioi_han": str(page_size)})
    ids = [r["ma_nhan_su"] for r in rows]
    assert sorted(ids) == sorted(BY_ID)  # every row, none twice
    assert ids == feed_order(list(BY_ID.values()))  # in (ngay_cap_nhat, ma_nhan_su) order


async def test_feed_since_is_inclusive_and_filters(agency_rest: httpx.AsyncClient) -> None:
    since = "2024-01-01T07:05:00+07:00"  # = 00:05 UTC, the sixth group of four
    rows = await read_feed(agency_rest, {"cap_nhat_tu": since, "gioi_han": "2"})
    expected = [r for r in BY_ID.values() if r["ngay_cap_nhat"] >= FEED_START.replace(minute=5)]
    assert [r["ma_nhan_su"] for r in rows] == feed_order(expected)
    assert len(rows) == 5


async def test_feed_continues_from_cursor_alone(agency_rest: httpx.AsyncClient) -> None:
    first = (await agency_rest.get(FEED, params={"cap_nhat_tu": FEED_START.isoformat(),
                                                 "gioi_han": "10"})).json()
    rest = await read_feed(agency_rest, {"con_tro": first["con_tro_tiep"], "gioi_han": "10"})
    assert len(first["du_lieu"]) + len(rest) == len(REST_STAFF)


@pytest.mark.parametrize("params", [
    {},
    {"gioi_han": "10"},
    {"cap_nhat_tu": "yesterday"},
    {"cap_nhat_tu": "2024-01-01T00:00:00 07:00"},  # an unencoded '+'
    {"cap_nhat_tu": "2024-13-01T00:00:00"},
    {"cap_nhat_tu": "2" * 10_000},
    {"cap_nhat_tu": "2024-01-01", "gioi_han": "0"},
    {"cap_nhat_tu": "2024-01-01", "gioi_han": "1001"},
    {"cap_nhat_tu": "2024-01-01", "gioi_han": "-1"},
    {"cap_nhat_tu": "2024-01-01", "gioi_han": "1e3"},
    {"cap_nhat_tu": "2024-01-01", "gioi_han": "ten"},
    {"cap_nhat_tu": "2024-01-01", "con_tro": "not-a-cursor"},
    {"cap_nhat_tu": "2024-01-01", "con_tro": base64.urlsafe_b64encode(b'["x", 1]').decode()},
    {"cap_nhat_tu": "2024-01-01", "con_tro": "A" * 5000},
    {"cap_nhat_tu": "2024-01-01", "limit": "10"},
], ids=["nothing", "no since", "words", "space offset", "month 13", "huge", "zero", "over cap",
        "negative", "exponent", "text", "bad cursor", "foreign cursor", "huge cursor",
        "unknown param"])
async def test_feed_rejects_malformed_parameters(agency_rest: httpx.AsyncClient,
                                                 params: dict[str, str]) -> None:
    response = await agency_rest.get(FEED, params=params)
    assert_error(response, 400, "YEU_CAU_KHONG_HOP_LE")
    assert len(response.content) < 600


async def test_feed_rejects_repeated_parameter(agency_rest: httpx.AsyncClient) -> None:
    response = await agency_rest.get(FEED + "?cap_nhat_tu=2024-01-01&cap_nhat_tu=2025-01-01")
    assert_error(response, 400, "YEU_CAU_KHONG_HOP_LE")


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/v1/nhan-su/tra-cuu"), ("GET", "/api/v1/nhan-su/BTC-0001"),
    ("GET", f"{FEED}?cap_nhat_tu=2024-01-01")])
@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong"}, {"Authorization": REST_TOKEN},
    {"Authorization": f"Basic {REST_TOKEN}"}, {"X-API-Key": REST_TOKEN}],
    ids=["none", "wrong", "no scheme", "basic", "api key"])
async def test_bearer_token_required(anonymous: httpx.AsyncClient, services: Services,
                                     method: str, path: str, headers: dict[str, str]) -> None:
    response = await anonymous.request(method, services.agency_rest + path, headers=headers,
                                       json={"so_cccd": []})
    assert_error(response, 401, "CHUA_XAC_THUC")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_bearer_scheme_is_case_insensitive(anonymous: httpx.AsyncClient,
                                                 services: Services) -> None:
    response = await anonymous.get(services.agency_rest + "/api/v1/nhan-su/BTC-0001",
                                   headers={"Authorization": f"bearer {REST_TOKEN}"})
    assert response.status_code == 200
