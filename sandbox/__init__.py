"""Simulated external systems the hub federates (see ``sandbox/README.md``).

Three real HTTP services, each backed by its own PostgreSQL database: the population registry,
the Ministry of Finance HR system (REST, Vietnamese field names) and the Hà Nội provincial HR
system (GraphQL); and the storage of two systems without a service: the Ministry of Health's
HR database (read by the hub directly) and Đà Nẵng's legacy system (which drops export
files). They exist so the demo, the tests and the benchmarks exercise the hub's
adapters over the network, with switchable faults, exactly as production would.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["SCHEMAS", "SYSTEMS", "Schema", "StoredSystem", "System"]

System = Literal["population", "agency_rest", "agency_graphql"]
SYSTEMS: tuple[System, ...] = get_args(System)
# Two more agency systems have no service of ours, only their storage: the Ministry of Health's
# database, which the hub reads directly, and Đà Nẵng's legacy system, which drops files.
StoredSystem = Literal["agency_database", "agency_file_drop"]
Schema = System | StoredSystem
SCHEMAS: tuple[Schema, ...] = (*SYSTEMS, *get_args(StoredSystem))
