"""Simulated external systems the hub federates (see ``sandbox/README.md``).

Three real HTTP services, each backed by its own PostgreSQL database: the population registry,
the Ministry of Finance HR system (REST, Vietnamese field names) and the Hà Nội provincial HR
system (GraphQL). They exist so the demo, the tests and the benchmarks exercise the hub's
adapters over the network, with switchable faults, exactly as production would.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["SYSTEMS", "System"]

System = Literal["population", "agency_rest", "agency_graphql"]
SYSTEMS: tuple[System, ...] = get_args(System)
