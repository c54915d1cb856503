"""Opening the agency HR systems of the source registry, each the way its kind is reached: an
HTTP client of its own for a REST or GraphQL system, a small connection pool for a database
read directly (connecting on first use, so the hub starts while it is down), and for a file
drop nothing until the first read."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import httpx

from adapters import AgencySystem, GraphQLAgencySystem, RestAgencySystem, RestAgencySystemConfig
from adapters.agency_database import DatabaseAgencySystem, DatabaseAgencySystemConfig
from adapters.file_drop import FileDropConfig, FileDropSystem
from hub.source_config import AgencySystemConfig

__all__ = ["OpenAgencySystems", "open_agency_systems"]


@dataclass
class OpenAgencySystems:
    systems: list[AgencySystem] = field(default_factory=list)
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def aclose(self) -> None:
        for close in reversed(self._closers):
            await close()
        self._closers.clear()


async def open_agency_systems(configs: Sequence[AgencySystemConfig],
                              http_client: Callable[[], httpx.AsyncClient]
                              ) -> OpenAgencySystems:
    opened = OpenAgencySystems()
    try:
        for config in configs:
            if isinstance(config, DatabaseAgencySystemConfig):
                database = await DatabaseAgencySystem.open(config)
                opened._closers.append(database.close)
                opened.systems.append(database)
            elif isinstance(config, FileDropConfig):
                opened.systems.append(FileDropSystem(config))
            else:
                client = http_client()
                opened._closers.append(client.aclose)
                opened.systems.append(RestAgencySystem(client, config)
                                      if isinstance(config, RestAgencySystemConfig)
                                      else GraphQLAgencySystem(client, config))
    except BaseException:
        await opened.aclose()
        raise
    return opened
