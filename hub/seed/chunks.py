"""Generating chunks: every table's COPY payload for a run of employees.

A pure function of (plan, chunk): it reads no clock, no database and no state left by other
chunks, so batches can be generated in worker processes in any order and still give the same
bytes as a single process would.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from hub.seed.agency_db import agency_database_rows
from hub.seed.agency_systems import agency_system_rows
from hub.seed.context import context_for
from hub.seed.employees import Employee, generate_employees
from hub.seed.file_drop import file_drop_rows
from hub.seed.plan import Plan
from hub.seed.population import citizen_rows
from hub.seed.records import national_rows
from hub.seed.serials import SerialAllocator
from hub.seed.tables import CHUNK_TABLES, CITIZEN, FAMILY_MEMBER

__all__ = ["Batch", "generate_batch", "generate_installed", "install_plan"]


@dataclass(frozen=True, slots=True)
class Batch:
    """The rows of consecutive chunks, per table (key 'database.table'), ready for COPY."""

    first_chunk: int
    payloads: dict[str, bytes]
    counts: dict[str, int]


# The systems hub.seed.agency_systems writes (the others have modules of their own).
_HTTP_SYSTEMS: Final = ("agency_rest", "agency_graphql")


def _held(people: Iterable[Employee], systems: tuple[str, ...]) -> list[Employee]:
    """The people held by one of ``systems``, in order."""
    return [e for e in people if e.agency.agency.system in systems]


def generate_batch(plan: Plan, chunks: range) -> Batch:
    context = context_for(plan)
    parts: dict[str, list[bytes]] = {t.key: [] for t in CHUNK_TABLES}
    for chunk in chunks:
        serials = SerialAllocator.for_chunk(plan.seed, chunk, plan.serial_block)
        employees, hires = generate_employees(context, chunk, serials)
        tables = national_rows(context, chunk, employees)
        citizens, addresses, family = citizen_rows(context, chunk, employees, hires, serials)
        tables[CITIZEN] = citizens
        tables[FAMILY_MEMBER] = family
        tables.update(agency_system_rows(context, chunk, _held(employees, _HTTP_SYSTEMS),
                                         _held(hires, _HTTP_SYSTEMS), addresses, serials))
        # After the other two: their generators and numbering are as they were without these.
        people = (*employees, *hires)
        tables.update(agency_database_rows(context, chunk, _held(people, ("agency_database",)),
                                           addresses, serials))
        tables.update(file_drop_rows(context, chunk, _held(people, ("agency_file_drop",)),
                                     addresses, serials))
        for table, rows in tables.items():
            parts[table.key].extend(rows)
    return Batch(chunks.start, {key: b"".join(rows) for key, rows in parts.items()},
                 {key: len(rows) for key, rows in parts.items()})


# Worker processes receive the plan once (initializer) rather than with every task.
_installed: Plan | None = None


def install_plan(plan: Plan) -> None:
    global _installed
    _installed = plan
    context_for(plan)  # build the lookup tables before the first task arrives


def generate_installed(first_chunk: int, last_chunk: int) -> Batch:
    if _installed is None:
        raise RuntimeError("install_plan() was not called in this worker")
    return generate_batch(_installed, range(first_chunk, last_chunk))
