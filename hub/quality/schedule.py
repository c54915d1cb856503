"""The server's scheduled data-quality measurement (``HUB_QUALITY_INTERVAL_SECONDS``): every
agency measured once per interval, inside the running hub, so the Ministry's series fill in on
their own.

Every hub process may run the schedule; one measures at a time (an advisory lock), and none
measures again until an interval has passed since the last run began (``quality_run``), so
many processes make one run per interval, not one each. A failed run is logged and the next
interval tries again; the schedule never stops the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from adapters.observe import background

if TYPE_CHECKING:
    from hub.app import HubRuntime

__all__ = ["measure_on_schedule"]

log = logging.getLogger(__name__)

_LOCK_KEY = 0x68756251  # 'hubQ': one scheduled measurement at a time, across processes


async def _measure_once(runtime: HubRuntime) -> None:
    import asyncpg

    from adapters.pg_pool import reset_unobserved
    from hub.quality.run import measure_quality
    from hub.quality.sources import open_sources
    from hub.source_config import load_source_config

    settings = runtime.settings
    interval = timedelta(seconds=settings.quality_interval_seconds)
    server = {"role": settings.database_role} if settings.database_role else None
    pool = await asyncpg.create_pool(settings.database_url, min_size=2, max_size=4,
                                     server_settings=server, reset=reset_unobserved)
    try:
        async with pool.acquire() as lock:
            if not await lock.fetchval("SELECT pg_try_advisory_lock($1)", _LOCK_KEY):
                return  # another process is measuring
            try:
                last = await lock.fetchval("SELECT max(started_at) FROM quality_run")
                if last is not None and datetime.now(UTC) - last < interval * 0.9:
                    return  # measured within this interval by some process
                async with open_sources(load_source_config(settings.sources_file)) as sources:
                    run = await measure_quality(pool, sources.population, sources.systems,
                                                mapped=sources.mapped)
                log.info("scheduled data-quality measurement: %s", run)
            finally:
                await lock.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    finally:
        await pool.close()


async def measure_on_schedule(runtime: HubRuntime, interval_seconds: float,
                              stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            with background("quality.scheduled"):
                await _measure_once(runtime)
        except Exception:  # a failed run must not end the schedule
            log.exception("scheduled data-quality measurement failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
