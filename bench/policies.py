"""What policies cost: the reference query with policies on and off, in one run.

Authentication and policies cannot be switched off in the server (by design), so this runs the
hub in-process over the real sources (PostgreSQL, the sandbox systems over HTTP) and compares,
per document, in interleaved rounds so that drift on the machine hits both sides alike:

- **off**: ``OperationRunner`` on the full schema with unrestricted grants
  (``HubRuntime.new_context()``), the hub's own trusted path;
- **on**: the whole admission path of a request — a real access token verified
  (``AccessControl.admit``), the client's purpose and view looked up — then the same document
  prepared and executed against the client's own schema, with its grants (columns, row
  filters pushed into SQL, masks applied per row).

Three views: ``moha-personnel-db/administration`` (grants every field: the pure cost of
enforcement), ``hanoi-doha/personnel-management`` (a row filter through a sub-select on the
agency's authority) and ``gov-inspectorate/inspection`` (masks, on an inspection-shaped query).
Each document is the reference query as far as the view's schema allows it (fields outside the
view are dropped from both sides), except the inspection one.

Also: the cost of verifying a token (cached and uncached) and of admitting a request, and the
one-time cost of loading and compiling every policy view.

    python -m bench.policies [--employees 10000] [--seconds 20] [--rounds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphql import (
    REMOVE,
    DocumentNode,
    FieldNode,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    parse,
    print_ast,
    validate,
    visit,
)

from bench.reference import REFERENCE_QUERY, _databases, _prepare
from hub.access import Access
from hub.app import HubRuntime
from hub.auth import mint_token
from hub.auth.clients import register_with_new_secrets
from hub.config import Settings
from hub.databases import DatabaseSet
from hub.environment import STATE_DIR
from hub.launcher import Ports, start_sandbox, stop
from hub.policy.compile import ClientView, PolicyEngine
from hub.policy.load import load_policy_dir
from hub.postgres_server import ensure_server
from resolvers.schema import build_schema

# An inspection reads identities (masked), positions, discipline and evaluations; the
# inspectorate may not filter by province, so the page is the first 100 by employee code.
INSPECTION_QUERY = """query Inspection {
  civilServants(first: 100) {
    edges { node {
      employeeCode personalId fullName birthDate category status agencyCode
      position { code name } rank { code name }
      agency { code name kind }
      disciplines { form { name } decisionNumber decidedOn inEffect }
      evaluations { year grade }
    } }
  }
}"""

CASES: tuple[tuple[str, str, str, str], ...] = (
    # (client, purpose, label, document)
    ("moha-personnel-db", "administration", "reference", REFERENCE_QUERY),
    ("hanoi-doha", "personnel-management", "reference", REFERENCE_QUERY),
    ("gov-inspectorate", "inspection", "inspection", INSPECTION_QUERY),
)


def fit_to_view(query: str, view: ClientView, full: GraphQLSchema) -> tuple[str, list[str]]:
    """The document without the fields the view does not show (and the names of those)."""
    document = parse(query)
    type_info = TypeInfo(full)
    dropped: list[str] = []

    class Drop(Visitor):
        def enter_field(self, node: FieldNode, *_: Any) -> Any:
            parent = type_info.get_parent_type()
            name = node.name.value
            if parent is None or name.startswith("__"):
                return None
            if name not in view.visible.get(parent.name, {}):
                dropped.append(f"{parent.name}.{name}")
                return REMOVE
            return None

    fitted: DocumentNode = visit(document, TypeInfoVisitor(type_info, Drop()))
    text = print_ast(fitted)
    errors = validate(view.schema, parse(text))
    if errors:
        raise SystemExit(f"{view.client.client_id}/{view.purpose.name}: the document does not "
                         f"fit the view: {errors[0].message}")
    return text, dropped


@dataclass
class Measured:
    requests: int = 0
    errors: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    rounds: list[float] = field(default_factory=list)  # requests/s of each round

    @property
    def rps(self) -> float:
        return self.requests / self.wall if self.wall else 0.0

    @property
    def cpu_ms(self) -> float:
        return self.cpu * 1000 / max(self.requests, 1)


Request = Callable[[], Awaitable[bool]]  # one request; True if it answered without errors


async def _round(request: Request, seconds: float, concurrency: int, into: Measured) -> None:
    """``concurrency`` requests in flight for ``seconds``: each worker starts its next request
    when its last one answers (a closed loop, as HTTP clients with keep-alive do)."""
    deadline = time.perf_counter() + seconds
    done = failed = 0

    async def worker() -> None:
        nonlocal done, failed
        while time.perf_counter() < deadline:
            ok = await request()
            done += 1
            failed += not ok

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    into.requests += done
    into.errors += failed
    into.wall += wall
    into.cpu += cpu
    into.rounds.append(done / wall)


@dataclass
class Case:
    label: str
    view: ClientView
    query: str
    dropped: list[str]
    headers: dict[str, str]
    off: Measured = field(default_factory=Measured)
    on: Measured = field(default_factory=Measured)


def _requests(runtime: HubRuntime, case: Case) -> tuple[Request, Request]:
    runner = runtime.runner

    async def off() -> bool:
        prepared = runner.prepare(case.query)
        assert prepared.document is not None
        _, errors = await runner.execute(prepared.document, variables=None, operation_name=None,
                                         context=runtime.new_context())
        return not errors

    async def on() -> bool:
        access = await runtime.access.admit(case.headers, None)
        schema = access.view.schema
        prepared = runner.prepare(case.query, schema)
        assert prepared.document is not None
        _, errors = await runner.execute(prepared.document, variables=None, operation_name=None,
                                         context=runtime.context(access), schema=schema)
        return not errors

    return off, on


async def _answers(runtime: HubRuntime, case: Case) -> tuple[Any, Any]:
    """Both sides' data, once: they must answer, and with the same rows."""
    runner = runtime.runner
    prepared = runner.prepare(case.query)
    assert prepared.document is not None
    off, off_errors = await runner.execute(prepared.document, variables=None,
                                           operation_name=None, context=runtime.new_context())
    access: Access = await runtime.access.admit(case.headers, None)
    prepared = runner.prepare(case.query, access.view.schema)
    if prepared.document is None:
        raise SystemExit(f"{case.label}: {prepared.errors[0].error.message}")
    on, on_errors = await runner.execute(prepared.document, variables=None, operation_name=None,
                                         context=runtime.context(access),
                                         schema=access.view.schema)
    for side, errors in (("off", off_errors), ("on", on_errors)):
        if errors:
            raise SystemExit(f"{case.view.client.client_id}: policies {side}: "
                             f"{errors[0].error.message}")
    return off, on


def _codes(data: Any) -> list[str]:
    return [edge["node"]["employeeCode"] for edge in data["civilServants"]["edges"]]


async def _verification(runtime: HubRuntime, headers: dict[str, str],
                        client_id: str) -> dict[str, float]:
    """µs per token verification (cached, uncached), per token minted, per admission."""
    verifier = runtime.auth.verifier
    auth = runtime.auth
    authorization = headers["authorization"]
    await verifier.verify(authorization)
    results: dict[str, float] = {}
    count = 20_000
    started = time.perf_counter()
    for _ in range(count):
        await verifier.verify(authorization)
    results["verify (cached)"] = (time.perf_counter() - started) / count * 1e6
    fresh = 400  # under the verifier's cache size, each one new to it
    started = time.perf_counter()
    tokens = [mint_token(auth.keys, auth.settings, client_id, None, 3600) for _ in range(fresh)]
    results["mint"] = (time.perf_counter() - started) / fresh * 1e6
    started = time.perf_counter()
    for token in tokens:
        await verifier.verify(f"Bearer {token}")
    results["verify (uncached)"] = (time.perf_counter() - started) / fresh * 1e6
    started = time.perf_counter()
    for _ in range(count):
        await runtime.access.admit(headers, None)
    results["admit (cached token)"] = (time.perf_counter() - started) / count * 1e6
    return results


def _compile_cost(runtime: HubRuntime) -> tuple[float, float, int]:
    """Median ms to load the policy files and to compile every view, and how many views."""
    schema = build_schema()._schema
    secret = secrets.token_bytes(32)
    loads, compiles, views = [], [], 0
    for _ in range(5):
        started = time.perf_counter()
        policies = load_policy_dir(runtime.settings.policy_dir)
        loads.append(time.perf_counter() - started)
        started = time.perf_counter()
        views = len(PolicyEngine(policies, schema, secret).views())
        compiles.append(time.perf_counter() - started)
    return statistics.median(loads) * 1000, statistics.median(compiles) * 1000, views


@contextmanager
def _environment(databases: DatabaseSet, ports: Ports, keys: Path) -> Iterator[None]:
    env = {"HUB_DATABASE_URL": databases.national, **databases.source_env(), **ports.source_env(),
           "HUB_AUTH_ISSUER": "http://127.0.0.1:8000", "HUB_POLICY_WATCH": "0",
           "HUB_SIGNING_KEY_FILE": str(keys / "signing.jwks"),
           "HUB_MASK_SECRET_FILE": str(keys / "mask.secret"),
           "HUB_TOKEN_LIFETIME_SECONDS": "3600"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


async def _run(runtime: HubRuntime, args: argparse.Namespace) -> None:
    await runtime.open()
    try:
        engine = runtime.policies.engine
        full = engine.schema  # the full schema: the runner's own, and the views' source
        cases = []
        for client_id, purpose, label, query in CASES:
            view = engine.view(client_id, purpose)
            text, dropped = fit_to_view(query, view, full)
            auth = runtime.auth
            token = mint_token(auth.keys, auth.settings, client_id, None, 3600)
            cases.append(Case(label, view, text, dropped,
                              {"authorization": f"Bearer {token}", "x-purpose": purpose}))
        for case in cases:
            off, on = await _answers(runtime, case)
            # A view with a row filter answers other rows than the unrestricted side (Hà Nội
            # sees the city's agencies, not the ministries located there): the comparison
            # holds as long as both answer a full page of the same shape.
            same = _codes(off) == _codes(on) or (
                bool(case.view.grants.row_filters) and len(_codes(off)) == len(_codes(on)))
            if not same:
                raise SystemExit(f"{case.view.client.client_id}: policies on and off answer "
                                 "pages of different sizes for the same document: not "
                                 "comparable")
        requests = {id(case): _requests(runtime, case) for case in cases}
        per_round = args.seconds / args.rounds
        for case in cases:  # warm pools, caches and plans on both sides
            off_request, on_request = requests[id(case)]
            await _round(off_request, 1.0, args.concurrency, Measured())
            await _round(on_request, 1.0, args.concurrency, Measured())
        for number in range(args.rounds):
            # Interleaved, alternating which side goes first, so drift does not favour one.
            for case in cases:
                off_request, on_request = requests[id(case)]
                sides = [(off_request, case.off), (on_request, case.on)]
                for request, into in sides if number % 2 == 0 else sides[::-1]:
                    await _round(request, per_round, args.concurrency, into)
        verification = await _verification(runtime, cases[0].headers,
                                           cases[0].view.client.client_id)
        load_ms, compile_ms, views = _compile_cost(runtime)
    finally:
        await runtime.close()
    _report(cases, verification, load_ms, compile_ms, views, args)


def _report(cases: list[Case], verification: dict[str, float], load_ms: float,
            compile_ms: float, views: int, args: argparse.Namespace) -> None:
    print(f"\n{'view (document)':<50}{'off req/s':>10}{'on req/s':>10}{'on/off':>8}"
          f"{'median':>8}{'off CPU':>9}{'on CPU':>8}{'errors':>8}")
    for case in cases:
        name = f"{case.view.client.client_id}/{case.view.purpose.name} ({case.label})"
        ratios = [on / off for on, off in zip(case.on.rounds, case.off.rounds, strict=True)]
        print(f"{name:<50}{case.off.rps:>10.1f}{case.on.rps:>10.1f}"
              f"{case.on.rps / case.off.rps:>8.3f}{statistics.median(ratios):>8.3f}"
              f"{case.off.cpu_ms:>9.2f}{case.on.cpu_ms:>8.2f}{case.off.errors + case.on.errors:>8}")
    print("\non/off: requests/s over all rounds; median: of the per-round ratios (each round runs")
    print("both sides back to back). CPU: ms per request in the hub's own process (PostgreSQL")
    print("and the sandbox systems run apart). Per-round spread of on/off:")
    for case in cases:
        ratios = [on / off for on, off in zip(case.on.rounds, case.off.rounds, strict=True)]
        dropped = f"; dropped from the document: {', '.join(case.dropped)}" if case.dropped else ""
        print(f"  {case.view.client.client_id}: {min(ratios):.3f}-{max(ratios):.3f}{dropped}")
    worst = min(case.on.rps / case.off.rps for case in cases)
    print(f"\npolicies cost at most {max(0.0, 1 - worst) * 100:.1f}% of throughput here "
          "(target ≤ 10%)")
    print("\nper request, once:")
    for name, micros in verification.items():
        print(f"  {name:<24}{micros:>10.1f} µs")
    print(f"\nloading the policy files: {load_ms:.1f} ms; compiling all {views} views: "
          f"{compile_ms:.1f} ms ({compile_ms / max(views, 1):.1f} ms per view), at start-up "
          "and on each reload")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.policies", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="measuring time per view and side, split over the rounds")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args(argv)

    databases = _databases(ensure_server(STATE_DIR), args.employees)
    print(f"policies on and off, in-process, {args.employees:,} employees, concurrency "
          f"{args.concurrency}, {args.rounds} interleaved rounds, {args.seconds:g} s per view "
          "and side")
    asyncio.run(_prepare(databases, args.employees, args.seed))
    # Secrets nobody keeps: the benchmark mints its tokens with the hub's own keys.
    asyncio.run(register_with_new_secrets(
        databases.national, {client: f"benchmark: {client}" for client, _, _, _ in CASES}))
    ports = Ports()
    sandbox = start_sandbox(databases, ports)
    try:
        with tempfile.TemporaryDirectory(prefix="hub-bench-keys-") as keys, \
                _environment(databases, ports, Path(keys)):
            runtime = HubRuntime(Settings.from_env())
            asyncio.run(_run(runtime, args))
    finally:
        stop(sandbox)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
