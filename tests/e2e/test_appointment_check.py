"""``appointmentCheck`` end to end: a hub of its own over databases of its own (seeded, then
given the decisions each case needs, written straight into the national database and the agency
systems' own tables), the sandbox over real HTTP with its fault switches, and the policies.

Cases: nothing on record, a decision expired, one in effect, one past its end but within its
bar, a form that ends the service, one only the agency system holds, the same number with
another form, one the agency system lacks, a pending case; an agency system down (never
CLEAR), a system the person has nothing to do with down (still CLEAR); hostile and malformed
arguments; clients without the grant, and Hà Nội's row scope; batching and the audit record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.auth.clients import register_with_new_secrets
from hub.databases import DatabaseSet, create_databases, drop_databases
from hub.launcher import Ports, free_port, own_keys_env, start_hub, start_sandbox, stop
from hub.policy.load import load_policy_dir
from hub.seed import seed_all
from tests.conftest import GraphQLClient, Sandbox, Tokens
from tests.e2e.audit_records import record, request_id
from tests.settings import TEST_DB_PREFIX

EMPLOYEES, SEED = 400, 3
AS_OF = "2026-11-01"
CHECK = """
query Check($pid: PersonalId!, $asOf: Date) {
  appointmentCheck(personalId: $pid, asOf: $asOf) {
    asOf verdict complete incompleteReasons
    civilServant { employeeCode personalId }
    disciplines { source decisionNumber form { code } decidedOn issuer reason effectiveFrom
                  effectiveTo inEffect barsAppointment barredUntil }
    pendingCases { system description }
    evaluations { year grade }
    bars { source decisionNumber form { code } kind until }
    disagreements { kind system decisionNumber fields }
    sources { name kind answered holdsRecord required servesAgency error }
  }
}"""
MOF, HANOI = "mof-hrmis", "hanoi-hrm"
# Whose work histories name no agency but their own system's, so that one system is required.
_SYSTEM_SUFFIXES = (".G02", ".H01", ".G04", ".H48")


@dataclass(frozen=True)
class Person:
    pid: str
    employee_code: str
    agency_code: str


@dataclass
class World:
    databases: DatabaseSet
    url: str
    tokens: Tokens
    sandbox: Sandbox
    people: dict[str, Person]
    graphql_core_url: str  # a second hub on graphql-core alone (HUB_PLAN_EXECUTOR=0)

    def client(self, client_id: str = "moha-personnel-db",
               purpose: str = "administration") -> GraphQLClient:
        return GraphQLClient(self.url, self.tokens, client_id, purpose)

    def check(self, case: str, as_of: str | None = AS_OF, **kwargs: Any) -> dict[str, Any]:
        result = self.client(**kwargs).query(CHECK, {"pid": self.people[case].pid,
                                                      "asOf": as_of})
        assert "errors" not in result, result["errors"]
        found: dict[str, Any] = result["data"]["appointmentCheck"]
        return found


# -- the world ---------------------------------------------------------------------------------


async def _candidates(national: asyncpg.Connection, agency: asyncpg.Connection | None,
                      suffix: str, count: int) -> list[Person]:
    """Active employees of agencies ending in ``suffix`` with nothing on record: no national
    decision, no drift and nothing pending in their agency's system, and no post in another
    agency an HR system serves."""
    others = [s for s in _SYSTEM_SUFFIXES if s != suffix]
    rows = await national.fetch(
        "SELECT employee_code, personal_id, agency_code FROM employee e"
        " WHERE status = 'active' AND agency_code LIKE '%' || $1"
        "  AND NOT EXISTS (SELECT 1 FROM discipline d WHERE d.employee_code = e.employee_code)"
        "  AND NOT EXISTS (SELECT 1 FROM work_history w WHERE w.employee_code = e.employee_code"
        "                  AND right(w.agency_code, 4) = ANY($2::text[]))"
        " ORDER BY employee_code", suffix, others)
    people = [Person(r["personal_id"], r["employee_code"], r["agency_code"]) for r in rows]
    if agency is not None:
        drifted = {r[0] for r in await agency.fetch("SELECT personal_id FROM seed_drift")}
        people = [p for p in people if p.pid not in drifted]
    assert len(people) >= count, f"too few {suffix} employees to stage the cases"
    return people[:count]


async def _decide(national: asyncpg.Connection, person: Person, number: str, form: str,
                  decided: date, start: date, end: date | None) -> None:
    await national.execute(
        "INSERT INTO discipline (employee_code, form_code, decision_number, decided_on,"
        " issuer, reason, effective_from, effective_to)"
        " VALUES ($1, $2, $3, $4, 'Bộ trưởng Bộ Tài chính', 'Vi phạm quy chế', $5, $6)",
        person.employee_code, form, number, decided, start, end)


async def _rest_decide(rest: asyncpg.Connection, person: Person, number: str, vendor_form: str,
                       decided: date, start: date, end: date | None) -> None:
    local = await rest.fetchval("SELECT ma_nhan_su FROM nhan_su WHERE so_cccd = $1", person.pid)
    assert local is not None
    await rest.execute(
        "INSERT INTO ky_luat (ma_nhan_su, so_quyet_dinh, ngay_quyet_dinh, hinh_thuc,"
        " co_quan_ban_hanh, ly_do, hieu_luc_tu, hieu_luc_den)"
        " VALUES ($1, $2, $3, $4, 'Bộ trưởng Bộ Tài chính', 'Vi phạm quy chế', $5, $6)",
        local, number, decided, vendor_form, start, end)
    await rest.execute("UPDATE nhan_su SET ngay_cap_nhat = now() WHERE ma_nhan_su = $1", local)


async def _stage(databases: DatabaseSet) -> dict[str, Person]:
    national = await asyncpg.connect(databases.national)
    rest = await asyncpg.connect(databases.agency_rest)
    hanoi = await asyncpg.connect(databases.agency_graphql)
    try:
        names = ("clear", "expired", "in_effect", "bar_period", "out_of_service",
                 "conflicting", "missing_in_agency", "pending")
        people = dict(zip(names, await _candidates(national, rest, ".G02", len(names)),
                          strict=True))
        people.update(zip(("agency_only", "hanoi_clear"),
                          await _candidates(national, hanoi, ".H01", 2), strict=True))
        people["no_system"] = (await _candidates(national, None, ".G03", 1))[0]

        # (case, number, national form, vendor form, decided, effective from, to)
        both = [
            ("expired", "901/QĐ-BTC", "reprimand", "KT", date(2020, 1, 10), date(2020, 1, 15),
             date(2020, 7, 15)),
            ("in_effect", "902/QĐ-BTC", "warning", "CC", date(2026, 6, 1), date(2026, 6, 5),
             date(2027, 6, 5)),
            # ended in May, but a warning bars for twelve months from March
            ("bar_period", "903/QĐ-BTC", "warning", "CC", date(2026, 2, 20), date(2026, 3, 1),
             date(2026, 5, 1)),
            ("out_of_service", "907/QĐ-BTC", "forced_resignation", "BTV", date(2024, 4, 1),
             date(2024, 4, 1), None),
        ]
        for case, number, form, vendor, decided, start, end in both:
            await _decide(national, people[case], number, form, decided, start, end)
            await _rest_decide(rest, people[case], number, vendor, decided, start, end)
        # The same number: a reprimand nationally (its six months ran out in July), a warning
        # in the Ministry's system (barred until January).
        await _decide(national, people["conflicting"], "904/QĐ-BTC", "reprimand",
                      date(2026, 1, 8), date(2026, 1, 10), date(2026, 7, 10))
        await _rest_decide(rest, people["conflicting"], "904/QĐ-BTC", "CC",
                           date(2026, 1, 8), date(2026, 1, 10), date(2026, 7, 10))
        await _decide(national, people["missing_in_agency"], "905/QĐ-BTC", "reprimand",
                      date(2019, 5, 2), date(2019, 5, 2), date(2019, 11, 2))
        await rest.execute("UPDATE nhan_su SET ky_luat_dang_xu_ly = $2, ngay_cap_nhat = now()"
                           " WHERE so_cccd = $1", people["pending"].pid,
                           "Đang xem xét kỷ luật: vi phạm quy chế (Tờ trình số 12/TTr-BTC)")
        await hanoi.execute(
            "INSERT INTO staff_discipline (citizen_id, decision_number, decided_on, form, issuer,"
            " reason, effective_from, effective_to) VALUES ($1, '906/QĐ-UBND', '2026-09-01',"
            " 'warning', 'Chủ tịch UBND thành phố Hà Nội', 'Chậm trễ', '2026-09-02',"
            " '2027-09-02')", people["agency_only"].pid)
        await hanoi.execute("UPDATE staff SET modified_at = now() WHERE citizen_id = $1",
                            people["agency_only"].pid)
        # Nobody's number: in no table of any source.
        unknown = "096150000000"
        for conn, sql in ((national, "SELECT count(*) FROM employee WHERE personal_id = $1"),
                          (rest, "SELECT count(*) FROM nhan_su WHERE so_cccd = $1"),
                          (hanoi, "SELECT count(*) FROM staff WHERE citizen_id = $1")):
            assert await conn.fetchval(sql, unknown) == 0
        people["nobody"] = Person(unknown, "", "")
        return people
    finally:
        for conn in (national, rest, hanoi):
            await conn.close()


@pytest.fixture(scope="module")
def world(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    databases = DatabaseSet.on_server(server_url, f"{TEST_DB_PREFIX}_appointment")
    folder: Path = tmp_path_factory.mktemp("appointment")

    async def prepare() -> tuple[dict[str, Person], dict[str, str]]:
        await create_databases(databases, recreate=True)
        await seed_all(databases, employees=EMPLOYEES, seed=SEED)
        people = await _stage(databases)
        policies = load_policy_dir()
        secrets = await register_with_new_secrets(
            databases.national, {c: p.name for c, p in policies.clients.items()})
        return people, secrets

    people, secrets = asyncio.run(prepare())
    ports = Ports()
    sandbox = start_sandbox(databases, ports)
    port, core_port = free_port(), free_port()
    env = {"HUB_EXPOSE_SOURCE_CALLS": "1", "AGENCY_MOF_TIMEOUT_SECONDS": "0.5",
           "AGENCY_HANOI_TIMEOUT_SECONDS": "0.5", "HUB_SOURCE_RETRIES": "0",
           "HUB_BREAKER_FAILURES": "1000000", "HUB_POLICY_WATCH": "0"}
    hubs = []
    try:
        hubs.append(start_hub(databases, ports, port,
                              env={**env, **own_keys_env(port, folder)}))
        # Same keys and issuer: a token of the first hub serves the second too.
        hubs.append(start_hub(databases, ports, core_port, env={
            **env, **own_keys_env(port, folder), "HUB_PLAN_EXECUTOR": "0"}))
        url = f"http://127.0.0.1:{port}"
        yield World(databases, url, Tokens(url, secrets), Sandbox(ports), people,
                    f"http://127.0.0.1:{core_port}")
    finally:
        for hub in hubs:
            stop(hub)
        stop(sandbox)
        asyncio.run(drop_databases(databases))


@pytest.fixture
def fresh(world: World) -> Iterator[World]:
    """The world with every fault switch off and the sandbox statistics reset, before and
    after."""
    world.sandbox.reset()
    yield world
    world.sandbox.reset()


def _source(check: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in check["sources"] if s["name"] == name)
    return found


# -- what the sources hold ---------------------------------------------------------------------


def test_nothing_on_record_is_clear(fresh: World) -> None:
    check = fresh.check("clear")
    person = fresh.people["clear"]
    assert check["verdict"] == "CLEAR"
    assert check["complete"] is True
    assert check["incompleteReasons"] == []
    assert check["asOf"] == AS_OF
    assert check["civilServant"] == {"employeeCode": person.employee_code,
                                     "personalId": person.pid}
    assert check["disciplines"] == check["bars"] == check["disagreements"] == []
    assert check["pendingCases"] == []
    assert {e["year"] for e in check["evaluations"]} <= {2023, 2024, 2025, 2026}
    national, mof = _source(check, "national"), _source(check, MOF)
    assert national == {"name": "national", "kind": "NATIONAL_DATABASE", "answered": True,
                        "holdsRecord": True, "required": True, "servesAgency": True,
                        "error": None}
    assert mof == {"name": MOF, "kind": "AGENCY_SYSTEM", "answered": True, "holdsRecord": True,
                   "required": True, "servesAgency": True, "error": None}
    hanoi = _source(check, HANOI)
    assert (hanoi["holdsRecord"], hanoi["required"], hanoi["servesAgency"]) == (
        False, False, False)


def test_an_expired_decision_does_not_bar(fresh: World) -> None:
    check = fresh.check("expired")
    assert check["verdict"] == "CLEAR"
    assert [(d["source"], d["decisionNumber"], d["form"]["code"]) for d in check["disciplines"]
            ] == [("national", "901/QĐ-BTC", "reprimand"), (MOF, "901/QĐ-BTC", "reprimand")]
    for decision in check["disciplines"]:
        assert decision["inEffect"] is False
        assert decision["barsAppointment"] is False
        assert decision["barredUntil"] == "2020-07-15"
    assert check["disagreements"] == []


def test_a_decision_in_effect_bars_until_its_end(fresh: World) -> None:
    check = fresh.check("in_effect")
    assert check["verdict"] == "BARRED"
    assert check["complete"] is True
    assert check["bars"] == [
        {"source": source, "decisionNumber": "902/QĐ-BTC", "form": {"code": "warning"},
         "kind": "IN_EFFECT", "until": "2027-06-05"} for source in ("national", MOF)]
    # Before it was decided, nothing barred the same person.
    assert fresh.check("in_effect", as_of="2026-05-31")["verdict"] == "CLEAR"
    # Without asOf: today (the decision runs until June 2027).
    today = fresh.check("in_effect", as_of=None)
    assert today["asOf"] == date.today().isoformat()
    assert today["verdict"] == ("BARRED" if date.today() <= date(2027, 6, 5) else "CLEAR")


def test_within_the_bar_after_its_end(fresh: World) -> None:
    check = fresh.check("bar_period")
    assert check["verdict"] == "BARRED"
    national = check["disciplines"][0]
    assert (national["inEffect"], national["barsAppointment"], national["barredUntil"]) == (
        False, True, "2027-03-01")
    assert {b["kind"] for b in check["bars"]} == {"BAR_PERIOD"}
    assert fresh.check("bar_period", as_of="2027-03-02")["verdict"] == "CLEAR"


def test_a_form_that_ends_the_service_bars_with_no_end(fresh: World) -> None:
    check = fresh.check("out_of_service", as_of="2090-01-01")
    assert check["verdict"] == "BARRED"
    assert {(b["kind"], b["until"]) for b in check["bars"]} == {("NOT_IN_SERVICE", None)}
    assert check["disciplines"][0]["effectiveTo"] is None


def test_a_decision_only_the_agency_system_holds(fresh: World) -> None:
    check = fresh.check("agency_only")
    assert check["verdict"] == "BARRED"
    assert check["bars"] == [{"source": HANOI, "decisionNumber": "906/QĐ-UBND",
                              "form": {"code": "warning"}, "kind": "IN_EFFECT",
                              "until": "2027-09-02"}]
    assert check["disagreements"] == [{"kind": "MISSING_NATIONALLY", "system": HANOI,
                                       "decisionNumber": "906/QĐ-UBND", "fields": []}]


def test_the_same_number_with_another_form(fresh: World) -> None:
    check = fresh.check("conflicting")
    assert check["disagreements"] == [{"kind": "CONFLICTING", "system": MOF,
                                       "decisionNumber": "904/QĐ-BTC", "fields": ["form"]}]
    # The national reprimand ran out in July; the Ministry's warning bars until January.
    assert check["verdict"] == "BARRED"
    assert check["bars"] == [{"source": MOF, "decisionNumber": "904/QĐ-BTC",
                              "form": {"code": "warning"}, "kind": "BAR_PERIOD",
                              "until": "2027-01-10"}]


def test_a_decision_the_agency_system_lacks(fresh: World) -> None:
    check = fresh.check("missing_in_agency")
    assert check["verdict"] == "CLEAR"
    assert check["disagreements"] == [{"kind": "MISSING_IN_AGENCY_SYSTEM", "system": MOF,
                                       "decisionNumber": "905/QĐ-BTC", "fields": []}]


def test_a_pending_case(fresh: World) -> None:
    check = fresh.check("pending")
    assert check["verdict"] == "PENDING_CASE"
    assert check["pendingCases"] == [
        {"system": MOF,
         "description": "Đang xem xét kỷ luật: vi phạm quy chế (Tờ trình số 12/TTr-BTC)"}]


def test_someone_no_source_knows_is_not_found(fresh: World) -> None:
    result = fresh.client().query(CHECK, {"pid": fresh.people["nobody"].pid, "asOf": AS_OF})
    assert result["data"] == {"appointmentCheck": None}
    assert [e["extensions"]["code"] for e in result["errors"]] == ["NOT_FOUND"]


# -- failing sources ---------------------------------------------------------------------------


@pytest.mark.parametrize(("switch", "code"), [
    ({"outage": True}, "SOURCE_UNAVAILABLE"),
    ({"errorRate": 1.0}, "SOURCE_UNAVAILABLE"),
    ({"malformed": True}, "SOURCE_UNAVAILABLE"),
    ({"latencyMs": 1500}, "SOURCE_TIMEOUT"),
], ids=["outage", "errors", "malformed", "too slow"])
def test_a_failing_agency_system_makes_the_check_incomplete(
        fresh: World, switch: dict[str, Any], code: str) -> None:
    fresh.sandbox.switch("agency_rest", **switch)
    check = fresh.check("clear")
    assert check["verdict"] == "INCOMPLETE"
    assert check["complete"] is False
    assert check["incompleteReasons"] == [f"{MOF} could not be read"]
    assert _source(check, MOF) == {
        "name": MOF, "kind": "AGENCY_SYSTEM", "answered": False, "holdsRecord": None,
        "required": True, "servesAgency": True, "error": code}
    # A pending case seen elsewhere cannot be told from a bar the failing system holds.
    assert fresh.check("pending")["verdict"] == "INCOMPLETE"
    # What the national database holds bars whatever the failing system holds.
    barred = fresh.check("in_effect")
    assert (barred["verdict"], barred["complete"]) == ("BARRED", False)
    assert [b["source"] for b in barred["bars"]] == ["national"]


def test_a_system_the_person_never_dealt_with_is_not_needed(fresh: World) -> None:
    fresh.sandbox.switch("agency_rest", outage=True)
    fresh.sandbox.switch("agency_graphql", outage=True)
    check = fresh.check("no_system")
    assert check["verdict"] == "CLEAR"
    assert check["complete"] is True
    assert {s["name"]: (s["answered"], s["required"]) for s in check["sources"]
            if s["name"] in (MOF, HANOI)} == {MOF: (False, False), HANOI: (False, False)}
    # For Hà Nội's own employee, its system is needed.
    hanoi = fresh.check("hanoi_clear")
    assert (hanoi["verdict"], hanoi["complete"]) == ("INCOMPLETE", False)


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("pid", [
    "abc", "00108001234", "0010800123456", "' OR 1=1 --", "099080012345", "００1080012345",
    "001080012345\u0000", "", " 001080012345", 1080012345, None, ["001080012345"],
    "9" * 10_000], ids=["letters", "11 digits", "13 digits", "SQL", "province 99",
                        "full-width", "NUL", "empty", "space", "number", "null", "list",
                        "huge"])
def test_malformed_personal_ids_are_refused(world: World, pid: Any) -> None:
    response = world.client().post(CHECK, {"pid": pid, "asOf": AS_OF})
    assert response.status_code in (200, 400)
    body = response.json()
    assert body.get("data") in (None, {"appointmentCheck": None})
    assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}
    assert "Traceback" not in response.text


@pytest.mark.parametrize(("as_of", "codes"), [
    ("2026-13-01", {"BAD_USER_INPUT"}), ("yesterday", {"BAD_USER_INPUT"}),
    ("2026-11-01T00:00:00", {"BAD_USER_INPUT"}), (20261101, {"BAD_USER_INPUT"}),
    ("1900-01-01", {"BAD_USER_INPUT"}), ("9999-12-31", {"BAD_USER_INPUT"}),
    ("0001-01-01", {"BAD_USER_INPUT"}),
], ids=["month 13", "words", "date-time", "number", "1900", "year 9999", "year 1"])
def test_malformed_or_out_of_range_days_are_refused(world: World, as_of: Any,
                                                    codes: set[str]) -> None:
    response = world.client().post(CHECK, {"pid": world.people["clear"].pid, "asOf": as_of})
    body = response.json()
    assert body.get("data") in (None, {"appointmentCheck": None})
    assert {e["extensions"]["code"] for e in body["errors"]} == codes


def test_a_day_in_the_document_is_checked_too(world: World) -> None:
    pid = world.people["clear"].pid
    for literal in ('"2026-02-30"', '"1949-12-31"', "20261101"):
        body = world.client().query(
            f'{{ appointmentCheck(personalId: "{pid}", asOf: {literal}) {{ verdict }} }}')
        assert body.get("data") in (None, {"appointmentCheck": None}), literal
        assert {e["extensions"]["code"] for e in body["errors"]} <= {
            "BAD_USER_INPUT", "VALIDATION_FAILED"}, literal


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pid=st.text(max_size=40) | st.from_regex(r"0[0-9]{11}", fullmatch=True))
def test_no_input_discloses_anything_but_a_check(world: World, pid: str) -> None:
    """Whatever is sent as the personal ID: a check of a person some source knows, or an
    error with a code, never an internal error."""
    response = world.client().post(CHECK, {"pid": pid, "asOf": AS_OF})
    assert response.status_code in (200, 400)
    body = response.json()
    check = (body.get("data") or {}).get("appointmentCheck")
    codes = {e["extensions"]["code"] for e in body.get("errors", [])}
    assert "INTERNAL" not in codes
    if check is None:
        assert codes <= {"BAD_USER_INPUT", "NOT_FOUND"}
        assert codes
    else:
        assert check["verdict"] in ("CLEAR", "BARRED", "PENDING_CASE", "INCOMPLETE")


# -- who may check -----------------------------------------------------------------------------


@pytest.mark.parametrize(("client", "purpose"), [
    ("mof-payroll", "salary-budget"), ("vss-insurance", "social-insurance"),
    ("mps-identity", "identity-verification"), ("national-portal", "data-subject-access"),
    ("gov-inspectorate", "inspection"), ("hanoi-doha", "recruitment"),
    ("moha-personnel-db", "statistics")])
def test_clients_without_the_grant_cannot_check(world: World, client: str,
                                                purpose: str) -> None:
    response = world.client(client, purpose).post(
        CHECK.replace("query Check", "query"), {"pid": world.people["clear"].pid})
    body = response.json()
    assert body.get("data") is None
    assert {e["extensions"]["code"] for e in body["errors"]} <= {"VALIDATION_FAILED",
                                                                 "FORBIDDEN"}


def test_the_city_checks_its_own_employees_only(fresh: World) -> None:
    city = {"client_id": "hanoi-doha", "purpose": "personnel-management"}
    query = """query($pid: PersonalId!) { appointmentCheck(personalId: $pid, asOf: "2026-11-01") {
        verdict complete bars { source decisionNumber } pendingCases { system } } }"""
    own = fresh.client(**city).data(query, {"pid": fresh.people["agency_only"].pid})
    assert own["appointmentCheck"]["verdict"] == "BARRED"
    # A ministry's employee, in Hà Nội or not, is not the city's to check.
    other = fresh.client(**city).query(query, {"pid": fresh.people["in_effect"].pid})
    assert other["data"] == {"appointmentCheck": None}
    assert [e["extensions"]["code"] for e in other["errors"]] == ["NOT_FOUND"]
    # What a pending case is about is not in its schema.
    hidden = fresh.client(**city).query(
        '{ appointmentCheck(personalId: "001080012345") { pendingCases { description } } }')
    assert [e["extensions"]["code"] for e in hidden["errors"]] == ["VALIDATION_FAILED"]


def test_the_inspectorate_checks_by_employee_code(fresh: World) -> None:
    inspector = fresh.client("gov-inspectorate", "inspection")
    person = fresh.people["bar_period"]
    data = inspector.data(f"""{{ civilServant(employeeCode: "{person.employee_code}") {{
        personalId appointmentCheck(asOf: "2026-11-01") {{ verdict complete
          bars {{ source decisionNumber kind until }} }} }} }}""")
    found = data["civilServant"]
    assert found["personalId"] == "*" * 8 + person.pid[-4:]
    assert found["appointmentCheck"]["verdict"] == "BARRED"
    assert found["appointmentCheck"]["bars"][0] == {
        "source": "national", "decisionNumber": "903/QĐ-BTC", "kind": "BAR_PERIOD",
        "until": "2027-03-01"}


# -- batching and the audit record -------------------------------------------------------------


def test_checks_are_batched(fresh: World) -> None:
    people = [fresh.people[c] for c in ("clear", "in_effect", "conflicting", "agency_only")]
    aliases = " ".join(
        f'c{i}: appointmentCheck(personalId: "{p.pid}", asOf: "2026-11-01") '
        "{ verdict disciplines { source } }" for i, p in enumerate(people))
    result = fresh.client().query(f"{{ {aliases} }}")
    assert "errors" not in result, result["errors"]
    assert [result["data"][f"c{i}"]["verdict"] for i in range(4)] == [
        "CLEAR", "BARRED", "BARRED", "BARRED"]
    calls = result["extensions"]["sourceCalls"]
    # people, decisions, evaluations, work histories: one query each, whatever the count
    assert calls["national"] == 4
    assert calls[MOF] == calls[HANOI] == 1
    assert fresh.sandbox.stats("agency_rest")["requests"] == {"nhan_su.tra_cuu": 1}
    assert fresh.sandbox.stats("agency_graphql")["requests"] == {"graphql": 1,
                                                                  "staffByCitizenIds": 1}


def test_a_page_of_civil_servants_is_checked_in_one_call_per_source(fresh: World) -> None:
    result = fresh.client().query("""{ civilServants(first: 40) { nodes { employeeCode
        appointmentCheck(asOf: "2026-11-01") { verdict complete } } } }""")
    assert "errors" not in result, result["errors"]
    nodes = result["data"]["civilServants"]["nodes"]
    assert len(nodes) == 40
    assert all(n["appointmentCheck"]["complete"] for n in nodes)
    calls = result["extensions"]["sourceCalls"]
    assert calls["national"] == 4  # the page, decisions, evaluations, work histories
    assert calls[MOF] == 1


def test_a_check_is_audited_against_the_person(fresh: World) -> None:
    rid = request_id("appointment")
    person = fresh.people["in_effect"]
    response = fresh.client().post(
        'query($pid: PersonalId!) { appointmentCheck(personalId: $pid, asOf: "2026-11-01") { '
        "verdict bars { decisionNumber until } sources { name answered } } }",
        {"pid": person.pid}, headers={"x-request-id": rid})
    assert response.status_code == 200
    audit = record(fresh.databases.national, rid)
    assert audit.subjects == {person.pid}
    assert audit.fields_of(person.pid) == {
        "Query.appointmentCheck", "AppointmentCheck.verdict", "AppointmentCheck.bars",
        "AppointmentBar.decisionNumber", "AppointmentBar.until", "AppointmentCheck.sources",
        "CheckedSource.name", "CheckedSource.answered"}
    # A lookup of someone nobody knows is an access to that ID all the same.
    rid = request_id("appointment-missing")
    fresh.client().post(CHECK, {"pid": fresh.people["nobody"].pid},
                        headers={"x-request-id": rid})
    assert record(fresh.databases.national, rid).subjects == {fresh.people["nobody"].pid}


def test_the_agency_record_shows_hire_date_and_decisions(fresh: World) -> None:
    person = fresh.people["in_effect"]
    data = fresh.client().data(f"""{{ civilServant(employeeCode: "{person.employee_code}") {{
        hiredOn agencyRecord {{ system hiredOn disciplines {{ decisionNumber formCode decidedOn
          issuer effectiveFrom effectiveTo }} }} }} }}""")
    found = data["civilServant"]
    assert found["agencyRecord"]["hiredOn"] == found["hiredOn"]
    assert found["agencyRecord"]["disciplines"] == [{
        "decisionNumber": "902/QĐ-BTC", "formCode": "warning", "decidedOn": "2026-06-01",
        "issuer": "Bộ trưởng Bộ Tài chính", "effectiveFrom": "2026-06-05",
        "effectiveTo": "2027-06-05"}]


def test_the_sandbox_answers_in_its_own_terms(world: World) -> None:
    """The staged decision is in the vendor's JSON as the vendor codes it (KT/CC/...)."""
    mof = world.sandbox.url("agency_rest")
    answer = httpx.post(f"{mof}/api/v1/nhan-su/tra-cuu", timeout=10,
                        json={"so_cccd": [world.people["in_effect"].pid]},
                        headers={"Authorization": "Bearer demo-mof-token"}).json()
    assert [d["hinh_thuc"] for d in answer["du_lieu"][0]["ky_luat"]] == ["CC"]


def test_graphql_core_gives_the_same_checks(fresh: World) -> None:
    """The plan executor and graphql-core alone answer every case alike."""
    cases = [c for c in fresh.people if c != "nobody"]
    aliases = " ".join(
        f'{case}: appointmentCheck(personalId: "{fresh.people[case].pid}", asOf: "{AS_OF}") '
        f'{{ ...all }}' for case in cases)
    fragment = CHECK[CHECK.index("asOf verdict"):CHECK.rindex("}", 0, CHECK.rindex("}"))]
    query = f"{{ {aliases} }} fragment all on AppointmentCheck {{ {fragment} }}"
    planned = fresh.client().query(query)
    core = GraphQLClient(fresh.graphql_core_url, fresh.tokens).query(query)
    assert "errors" not in planned, planned["errors"]
    assert planned["data"] == core["data"]
