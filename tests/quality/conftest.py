"""The data-quality tests' own databases (tests/quality/fixture.py) and sandbox services over
real HTTP, never the session's shared ones: measuring writes runs into the national database,
and the failure tests switch the sources off."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from hub.config import PROJECT_ROOT
from hub.databases import DatabaseSet, drop_databases
from hub.launcher import Ports, start_sandbox, stop
from hub.quality import QualityRun, measure_quality
from hub.quality.sources import open_sources
from hub.source_config import load_source_config
from tests.conftest import Sandbox
from tests.quality.fixture import NOW, NOW2, build
from tests.settings import TEST_DB_PREFIX

SOURCES_FILE = PROJECT_ROOT / "config" / "sources.yaml"


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass(frozen=True)
class QualityEnv:
    databases: DatabaseSet
    sandbox: Sandbox

    @property
    def source_env(self) -> dict[str, str]:
        """What config/sources.yaml reads this fixture's systems' addresses from."""
        return {**self.databases.source_env(), **self.sandbox.ports.source_env(),
                "HUB_SOURCE_RETRIES": "0"}

    def measure(self, env: Mapping[str, str] | None = None, **options: Any) -> QualityRun:
        """A run of ``measure_quality`` in this process over the fixture's sources
        (``env``: settings of the source registry beside the addresses)."""
        async def run() -> QualityRun:
            with environment({**self.source_env, **(env or {})}):
                config = load_source_config(SOURCES_FILE)
            pool = await asyncpg.create_pool(self.databases.national, min_size=2, max_size=3)
            try:
                async with open_sources(config) as sources:
                    return await measure_quality(pool, sources.population, sources.systems,
                                                 mapped=sources.mapped, **options)
            finally:
                await pool.close()

        return asyncio.run(run())

    def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        async def run() -> list[dict[str, Any]]:
            conn = await asyncpg.connect(self.databases.national)
            try:
                return [dict(r) for r in await conn.fetch(sql, *args)]
            finally:
                await conn.close()

        return asyncio.run(run())


@pytest.fixture(scope="package")
def quality(server_url: str) -> Iterator[QualityEnv]:
    databases = asyncio.run(build(server_url, f"{TEST_DB_PREFIX}_quality"))
    ports = Ports()
    group = start_sandbox(databases, ports)
    try:
        yield QualityEnv(databases, Sandbox(ports))
    finally:
        stop(group)
        asyncio.run(drop_databases(databases))


@pytest.fixture
def sources_up(quality: QualityEnv) -> Iterator[QualityEnv]:
    """The fixture's sandbox with every fault switched off, before and after."""
    quality.sandbox.reset()
    yield quality
    quality.sandbox.reset()


@pytest.fixture(scope="package")
def runs(quality: QualityEnv) -> tuple[QualityRun, QualityRun]:
    """Two runs over every agency, a day apart (NOW, NOW2), every source answering."""
    quality.sandbox.reset()
    return quality.measure(now=NOW), quality.measure(now=NOW2)
