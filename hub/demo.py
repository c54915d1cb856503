"""``hub demo``: everything a new user needs to see the hub working, in one command."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path
from types import FrameType

from hub.databases import DatabaseSet
from hub.environment import STATE_DIR, resolve_databases
from hub.launcher import Ports, ProcessGroup, port_is_free, start_hub, start_sandbox, stop

__all__ = ["run_demo"]

DEMO_PORTS = (8101, 8102, 8103)
EXAMPLE_QUERY = """{
  civilServants(first: 5, filter: {provinceCode: "01"}) {
    totalCount
    edges { node {
      employeeCode fullName birthDate category
      rank { code name } salaryStep salaryCoefficient
      agency { code name }
      person { currentAddress nationality alive }
      agencyRecord { system positionCode pendingDiscipline updatedAt }
    } }
    pageInfo { endCursor hasNextPage }
  }
}"""


# The client the example query runs as, and a purpose its policy declares.
DEMO_CLIENT = ("moha-personnel-db", "administration")
GRAPHIQL_TOKEN_SECONDS = 3600


def _register_clients(databases: DatabaseSet) -> dict[str, tuple[str, list[str]]]:
    """Every client that has a policy, registered with a secret made for this run:
    client id -> (secret, purposes)."""
    from hub.auth.clients import register_with_new_secrets
    from hub.policy.load import load_policy_dir

    policies = load_policy_dir()
    secrets = asyncio.run(register_with_new_secrets(
        databases.national, {c: p.name for c, p in policies.clients.items()}))
    return {c: (secret, sorted(policies.clients[c].purposes)) for c, secret in secrets.items()}


def _credentials_text(port: int, issued: dict[str, tuple[str, list[str]]]) -> str:
    from hub.auth import AuthSettings, SigningKeys, mint_token

    settings = AuthSettings.from_env()
    keys = SigningKeys.load_or_create(settings.signing_key_file, settings.algorithm)
    client_id, purpose = DEMO_CLIENT
    graphiql_token = mint_token(keys, settings, client_id, purpose, GRAPHIQL_TOKEN_SECONDS)
    width = max(len(c) for c in issued)
    rows = "\n".join(f"  {c:<{width}}  {secret}  {', '.join(purposes)}"
                     for c, (secret, purposes) in issued.items())
    secret = issued[client_id][0]
    base = f"http://127.0.0.1:{port}"
    return f"""
Example clients (policies/*.yaml), each with a secret generated for this run:
  {'client':<{width}}  {'secret':<{len(secret)}}  purposes
{rows}

Get a token (OAuth 2.0 client credentials) and query with it:
  TOKEN=$(curl -s -u {client_id}:{secret} -d grant_type=client_credentials \\
      {base}/oauth/token \\
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  curl -s {base}/graphql -H "authorization: Bearer $TOKEN" -H 'x-purpose: {purpose}' \\
      -H 'content-type: application/json' -d '{{"query": "{{ ranks {{ code name }} }}"}}'

In GraphiQL, paste into the Headers tab (a {client_id} token valid for one hour):
  {{"Authorization": "Bearer {graphiql_token}", "X-Purpose": "{purpose}"}}
Try the same query as another client to see its policy at work, e.g. mof-payroll
(salary-budget) sees no names, gov-inspectorate (inspection) sees masked personal IDs."""


DEMO_AGENCY = "000.00.01.H01"  # Hà Nội's Department of Home Affairs, which hanoi-doha acts for


async def _sync_keys(databases: DatabaseSet) -> list[str]:
    """Each synchronised agency system's signing key, created and registered for the agency
    its policy acts for (``hub sync keygen``): the systems' names."""
    from hub.config import PROJECT_ROOT
    from hub.policy.load import load_policy_dir
    from hub.sync.runner import ensure_sync_key
    from hub.sync.settings import sync_targets

    policies = load_policy_dir()
    targets = sync_targets(Path(os.environ.get("HUB_SOURCES",
                                               PROJECT_ROOT / "config/sources.yaml")))
    for target in targets.values():
        await ensure_sync_key(target, databases.national,
                              policies.clients[target.client_id].agency)
    return list(targets)


async def _demo_changes(databases: DatabaseSet) -> tuple[Path, Path]:
    """A signing key for Hà Nội's Department of Home Affairs (created once, registered in
    the national database) and a file of changes to sign and submit with ``hub submit``:
    a salary step up for three of the city's employees, prepared from their current versions.
    """
    import json
    from datetime import UTC, datetime, timedelta

    import asyncpg
    from joserfc.jwk import import_key

    from hub.config import PROJECT_ROOT
    from hub.updates.keys import add_signer_key, generate_signer_key

    key_file = PROJECT_ROOT / ".hub/keys/demo-hanoi-agency.jwk"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = generate_signer_key("ES256")
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(key.as_dict(private=True)))
    key = import_key(json.loads(key_file.read_text(encoding="utf-8")))
    changes = PROJECT_ROOT / ".hub/demo/changes.jsonl"
    changes.parent.mkdir(parents=True, exist_ok=True)
    conn = await asyncpg.connect(databases.national)
    try:
        if not await conn.fetchval("SELECT 1 FROM signer_key WHERE kid = $1", key.kid):
            await add_signer_key(conn, "agency", DEMO_AGENCY, key.as_dict(private=False),
                                 valid_from=datetime.now(UTC) - timedelta(days=1))
        rows = await conn.fetch(
            "SELECT e.employee_code, e.personal_id, e.salary_step, e.version FROM employee e"
            " JOIN agency a ON a.code = e.agency_code WHERE a.authority = 'H01'"
            " AND e.status = 'active' AND e.salary_step < (SELECT count(*) FROM salary_ladder"
            " l WHERE l.rank_code = e.rank_code) ORDER BY e.employee_code LIMIT 3")
    finally:
        await conn.close()
    today = datetime.now(UTC).date().isoformat()
    changes.write_text("".join(json.dumps({
        "kind": "position-change", "sourceSystem": "demo",
        "employee": {"employeeCode": r["employee_code"], "personalId": r["personal_id"]},
        "baseVersion": r["version"],
        "change": {"salaryStep": r["salary_step"] + 1, "effectiveFrom": today}},
        ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return key_file, changes


def _graphiql_assets() -> None:
    """GraphiQL's scripts served by the hub itself, fetched once through npm if need be."""
    from hub.config import graphiql_assets_dir
    from hub.graphiql import install_assets, load_page

    target = graphiql_assets_dir()
    if load_page(target).local:
        return
    try:
        install_assets(target)
    except RuntimeError as error:
        print(f"GraphiQL will load its scripts from unpkg.com ({error})")


async def _prepare(databases: DatabaseSet, employees: int, seed: int) -> None:
    from hub.seed import ensure_seeded

    summary = await ensure_seeded(databases, employees=employees, seed=seed,
                                  report=lambda line: print("  " + line, flush=True))
    if summary is None:
        print(f"databases already hold the {employees:,}-employee seed {seed}; not re-seeding")
    else:
        print(f"seeded {employees:,} employees in {summary.elapsed_seconds:.1f} s")


def _ports() -> Ports:
    if all(port_is_free(p) for p in DEMO_PORTS):
        return Ports(*DEMO_PORTS)
    return Ports()


def _telemetry() -> tuple[dict[str, str], Path]:
    """OpenTelemetry for the demo: the console exporters, into a file of their own (spans on
    the terminal would bury everything else), unless the user configured exporters."""
    log = STATE_DIR / "demo-telemetry.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(b"")
    if os.environ.get("OTEL_TRACES_EXPORTER") or os.environ.get("OTEL_METRICS_EXPORTER"):
        return {}, log
    return {"OTEL_TRACES_EXPORTER": "console", "OTEL_METRICS_EXPORTER": "console",
            "OTEL_METRIC_EXPORT_INTERVAL": "30000"}, log


def run_demo(*, employees: int, seed: int, port: int) -> int:
    if not port_is_free(port):
        print(f"port {port} is in use: set HUB_PORT or pass --port")
        return 1
    databases = resolve_databases("hub")
    print(f"national database: {databases.national}")
    asyncio.run(_prepare(databases, employees, seed))
    issued = _register_clients(databases)
    agency_key, changes = asyncio.run(_demo_changes(databases))
    synchronised = asyncio.run(_sync_keys(databases))
    _graphiql_assets()
    os.environ["HUB_PORT"] = str(port)  # the issuer the hub names in its tokens
    credentials = _credentials_text(port, issued)
    ports = _ports()
    sync_env = " ".join(f"{name}={value}" for name, value in {
        "HUB_DATABASE_URL": databases.national, **ports.source_env(),
        **databases.source_env()}.items())

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    # Both, explicitly, before any child starts: a shell that starts the demo in the background
    # ignores SIGINT in its children, and Python then installs no handler of its own.
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    processes: list[subprocess.Popen[bytes] | ProcessGroup] = []
    try:
        otel, telemetry_log = _telemetry()
        processes.append(start_sandbox(databases, ports, env=otel, stdout=telemetry_log))
        hub = start_hub(databases, ports, port, quiet=False, stdout=telemetry_log,
                        env={"HUB_EXPOSE_SOURCE_CALLS": "1", "HUB_PORT": str(port), **otel})
        processes.append(hub)
        print(f"""
The hub is running.
  GraphiQL   http://127.0.0.1:{port}/graphql
  readiness  http://127.0.0.1:{port}/readyz
  telemetry  OpenTelemetry spans and metrics of the hub and the sandbox (console exporter):
             tail -f {telemetry_log}
  sandbox    population registry :{ports.population}, Ministry of Finance HR (REST)
             :{ports.agency_rest}, Hà Nội HR (GraphQL) :{ports.agency_graphql}
             Ministry of Health HR, a database the hub reads: {databases.agency_database}
             Đà Nẵng HR, exports dropped into {databases.file_drops}
             (after changing its tables, drop a newer export:
              .venv/bin/python -m sandbox export-drop --dsn {databases.agency_file_drop} \\
                  --directory {databases.file_drops})

{credentials}

Try this query in GraphiQL as {DEMO_CLIENT[0]}:
{EXAMPLE_QUERY}
Every answer is recorded first. Then see who read a person's data (GraphiQL, same header):
  {{ accessHistory(personalId: "<a personalId from above>") {{ events {{ at system purpose
      endUser fieldGroups }} }} }}
and check the log's chains and signatures:
  HUB_DATABASE_URL={databases.national} .venv/bin/hub audit verify

Submit signed changes as Hà Nội's Department of Home Affairs (its key is registered; the
file raises three of the city's employees one salary step):
  HUB_CLIENT_SECRET={issued["hanoi-doha"][0]} .venv/bin/hub submit {changes} \\
      --hub http://127.0.0.1:{port} --client hanoi-doha --purpose personnel-updates \\
      --key {agency_key} --agency {DEMO_AGENCY} --report /tmp/hub-submit-report.jsonl
then read their history in GraphiQL as moha-personnel-db:
  {{ civilServant(employeeCode: "...") {{ history {{ versions {{ version submittedBy
      changes {{ field before after }} }} }} }} }}

Synchronise the agencies' HR systems ({', '.join(synchronised)}; each one's signing key is
registered) with the national database, then review what could not be settled:
  export {sync_env}
  .venv/bin/hub sync --all
  .venv/bin/hub sync conflicts
and in GraphiQL as moha-personnel-db:
  {{ syncConflicts(first: 5) {{ conflicts {{ kind system differences {{ field national agency }}
      national {{ fullName }} agencyRecord {{ fullName localId }} }} }} }}
  {{ appointmentCheck(personalId: "<a personalId>") {{ verdict bars {{ kind source until }}
      disagreements {{ kind decisionNumber }} }} }}

Press Ctrl-C to stop.""", flush=True)

        hub.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for process in reversed(processes):
            stop(process)
    return 0
