"""``hub demo``: everything a new user needs to see the hub working, in one command."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from types import FrameType

from hub.databases import DatabaseSet
from hub.environment import resolve_databases
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


def run_demo(*, employees: int, seed: int, port: int) -> int:
    if not port_is_free(port):
        print(f"port {port} is in use: set HUB_PORT or pass --port")
        return 1
    databases = resolve_databases("hub")
    print(f"national database: {databases.national}")
    asyncio.run(_prepare(databases, employees, seed))
    ports = _ports()

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    # Both, explicitly, before any child starts: a shell that starts the demo in the background
    # ignores SIGINT in its children, and Python then installs no handler of its own.
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    processes: list[subprocess.Popen[bytes] | ProcessGroup] = []
    try:
        processes.append(start_sandbox(databases, ports))
        hub = start_hub(databases, ports, port, quiet=False,
                        env={"HUB_EXPOSE_SOURCE_CALLS": "1"})
        processes.append(hub)
        print(f"""
The hub is running.
  GraphiQL   http://127.0.0.1:{port}/graphql
  readiness  http://127.0.0.1:{port}/readyz
  sandbox    population registry :{ports.population}, Ministry of Finance HR (REST)
             :{ports.agency_rest}, Hà Nội HR (GraphQL) :{ports.agency_graphql}

Try this query in GraphiQL (or with curl -H 'content-type: application/json'):
{EXAMPLE_QUERY}

Press Ctrl-C to stop.""", flush=True)

        hub.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for process in reversed(processes):
            stop(process)
    return 0
