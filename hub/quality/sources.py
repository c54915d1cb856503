"""The sources a measuring run outside the server reads: the population registry and the
agency HR systems of the source registry (``config/sources.yaml``), opened as the server
opens them (``hub/agency_sources.py``) for the run and closed after it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from adapters import AgencySystem, PopulationRegistry
from hub.agency_sources import open_agency_systems
from hub.source_config import SourceRegistryConfig

__all__ = ["QualitySources", "mapped_fields", "open_sources"]


@dataclass(frozen=True, slots=True)
class QualitySources:
    population: PopulationRegistry
    systems: tuple[AgencySystem, ...]
    # The canonical fields each system's mapping maps, by system name.
    mapped: dict[str, frozenset[str]]


def mapped_fields(config: Any) -> frozenset[str] | None:
    """The canonical fields a system's configuration maps (its own mapping, or its export
    format's for a file drop); None when it has none to tell."""
    mapping = getattr(config, "mapping", None) or getattr(getattr(config, "export", None),
                                                          "mapping", None)
    fields = getattr(mapping, "fields", None)
    return None if fields is None else frozenset(fields)


@asynccontextmanager
async def open_sources(config: SourceRegistryConfig) -> AsyncIterator[QualitySources]:
    clients: list[httpx.AsyncClient] = []

    def client() -> httpx.AsyncClient:
        clients.append(httpx.AsyncClient(limits=httpx.Limits(max_connections=20)))
        return clients[-1]

    try:
        population = PopulationRegistry(client(), config.population)
        opened = await open_agency_systems(config.agency_systems, client)
        try:
            mapped = {c.name: fields for c in config.agency_systems
                      if (fields := mapped_fields(c)) is not None}
            yield QualitySources(population, tuple(opened.systems), mapped)
        finally:
            await opened.aclose()
    finally:
        for each in clients:
            await each.aclose()
