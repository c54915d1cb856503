"""The source registry: which systems the hub talks to, and which system serves which agency.

A YAML file (``config/sources.yaml`` by default, ``HUB_SOURCES`` to change it) with
``${VAR}`` / ``${VAR:-default}`` references to the environment, so secrets and addresses come
from the deployment and the file itself can be reviewed and versioned.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from adapters import (
    GraphQLAgencySystemConfig,
    PopulationRegistryConfig,
    RecordMapping,
    RestAgencySystemConfig,
)
from adapters.agency_database import DatabaseAgencySystemConfig
from adapters.file_drop import FileDropConfig
from adapters.record_mapping import ListField
from adapters.resilience import Resilience
from hub.stored_source_config import database_system, file_drop_system

__all__ = ["AgencySystemConfig", "SourceRegistryConfig", "agency_system_entries",
           "load_source_config"]

AgencySystemConfig = (RestAgencySystemConfig | GraphQLAgencySystemConfig
                      | DatabaseAgencySystemConfig | FileDropConfig)

_REFERENCE = re.compile(r"\$\{([A-Z0-9_]+)(?::-([^}]*))?\}")


def _interpolated(node: Any) -> Any:
    """Environment references replaced in every string of the parsed document (after
    parsing, so a value is never re-read as YAML: '0123' stays '0123', 'yes' stays 'yes')."""
    if isinstance(node, str):
        return _interpolate(node)
    if isinstance(node, list):
        return [_interpolated(item) for item in node]
    if isinstance(node, dict):
        return {key: _interpolated(value) for key, value in node.items()}
    return node


def _interpolate(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = os.environ.get(name)
        if value:
            return value
        if default is None:
            raise ValueError(f"sources file refers to ${{{name}}}, which is not set")
        return default

    return _REFERENCE.sub(replace, text)


@dataclass(frozen=True, slots=True)
class SourceRegistryConfig:
    population: PopulationRegistryConfig
    agency_systems: tuple[AgencySystemConfig, ...]


def _mapping(entry: dict[str, Any]) -> RecordMapping:
    """``fields``/``types``/``codes``, and ``lists``: canonical fields holding a list of
    records, each ``{path, fields, types, codes}`` (the vendor's list and its items' mapping;
    ``disciplines`` is the one the hub reads)."""
    lists = entry.get("lists") or {}
    if not isinstance(lists, dict):
        raise ValueError("lists must map canonical fields to {path, fields, types, codes}")
    nested = {}
    for name, item in lists.items():
        if not isinstance(item, dict) or set(item) - {"path", "fields", "types", "codes"}:
            raise ValueError(f"list field {name!r}: expected path, fields, types and codes")
        nested[str(name)] = ListField(path=str(item["path"]), mapping=_mapping(item))
    return RecordMapping(fields=entry["fields"], types=entry.get("types", {}),
                         codes=entry.get("codes", {}), lists=nested)


# The hub-wide defaults of every source's resilience (config/sources.yaml may set a
# source's own under ``resilience:``).
_RESILIENCE_ENV = {"retries": ("HUB_SOURCE_RETRIES", int),
                   "backoff_seconds": ("HUB_SOURCE_BACKOFF_SECONDS", float),
                   "max_concurrency": ("HUB_SOURCE_CONCURRENCY", int),
                   "breaker_failures": ("HUB_BREAKER_FAILURES", int),
                   "breaker_open_seconds": ("HUB_BREAKER_OPEN_SECONDS", float),
                   "max_response_bytes": ("HUB_SOURCE_MAX_RESPONSE_BYTES", int)}


def _resilience(entry: dict[str, Any]) -> Resilience:
    own = entry.get("resilience") or {}
    unknown = set(own) - set(_RESILIENCE_ENV)
    if unknown:
        raise ValueError(f"unknown resilience setting(s) {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, (variable, kind) in _RESILIENCE_ENV.items():
        raw = own.get(name, os.environ.get(variable))
        if raw is None or raw == "":
            continue
        value = kind(raw)
        if value < 0 or (name in ("max_concurrency", "breaker_failures",
                                  "max_response_bytes") and value < 1):
            raise ValueError(f"resilience {name} must be positive, not {raw!r}")
        values[name] = value
    return Resilience(**values)


def _agency_system(entry: dict[str, Any]) -> AgencySystemConfig:
    if entry["kind"] == "database":
        return database_system(entry)
    if entry["kind"] == "file-drop":
        return file_drop_system(entry)
    name = str(entry["name"])
    serves = tuple(str(p) for p in entry["serves"])
    headers = {str(k): str(v) for k, v in (entry.get("headers") or {}).items()}
    timeout = float(entry.get("timeout_seconds", 2.0))
    max_batch = int(entry.get("max_batch", 500))
    lookup = entry["lookup"]
    if entry["kind"] == "rest":
        return RestAgencySystemConfig(
            name=name, serves=serves, base_url=str(entry["base_url"]).rstrip("/"),
            lookup_path=str(lookup["path"]), ids_field=str(lookup["ids_field"]),
            records_field=str(lookup["records_field"]), mapping=_mapping(entry),
            headers=headers, health_path=str(entry.get("health_path", "/healthz")),
            timeout_seconds=timeout, max_batch=max_batch, resilience=_resilience(entry))
    if entry["kind"] == "graphql":
        return GraphQLAgencySystemConfig(
            name=name, serves=serves, endpoint=str(entry["endpoint"]),
            lookup_field=str(lookup["field"]), ids_argument=str(lookup["ids_argument"]),
            mapping=_mapping(entry), headers=headers, health_url=entry.get("health_url"),
            timeout_seconds=timeout, max_batch=max_batch,
            ids_type=str(lookup.get("ids_type", "[String!]!")), resilience=_resilience(entry))
    raise ValueError(f"agency system {entry.get('name')!r}: unknown kind {entry['kind']!r}")


def load_source_config(path: Path) -> SourceRegistryConfig:
    try:
        document = _interpolated(yaml.safe_load(path.read_text(encoding="utf-8")))
        population = document["population"]
        return SourceRegistryConfig(
            population=PopulationRegistryConfig(
                base_url=str(population["base_url"]).rstrip("/"),
                api_key=str(population["api_key"]),
                timeout_seconds=float(population.get("timeout_seconds", 2.0)),
                max_batch=int(population.get("max_batch", 500)),
                resilience=_resilience(population)),
            agency_systems=tuple(_agency_system(e) for e in document.get("agency_systems", [])),
        )
    except (KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: invalid source registry: {exc}") from exc


def agency_system_entries(path: Path) -> dict[str, dict[str, Any]]:
    """Each agency system's entry as written (environment references resolved), by name: for
    the settings other parts of the hub keep beside a system's (``feed``, ``sync``)."""
    try:
        document = _interpolated(yaml.safe_load(path.read_text(encoding="utf-8")))
        return {str(e["name"]): e for e in document.get("agency_systems", [])}
    except (KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: invalid source registry: {exc}") from exc
