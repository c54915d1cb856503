"""The systems of record a hub instance talks to, opened by the app and passed in."""

from __future__ import annotations

from dataclasses import dataclass

from adapters import AgencySystemRegistry, NationalDatabase, PopulationRegistry

__all__ = ["Sources"]


@dataclass(frozen=True, slots=True)
class Sources:
    national: NationalDatabase
    population: PopulationRegistry
    agency_systems: AgencySystemRegistry
