"""The server's scheduled synchronisation (``HUB_SYNC_INTERVAL_SECONDS``): every interval,
each synchronised system is read up to date, one after the other, inside the running hub.

Several hub processes (workers, replicas) may all run the schedule: a system being
synchronised by one is skipped by the others (an advisory lock per system), so each change
is read once. A system whose signing key is missing, or whose run fails (its source down),
is logged and tried again at the next interval; the schedule itself never stops the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from adapters.observe import background

if TYPE_CHECKING:
    from hub.app import HubRuntime

__all__ = ["run_schedule"]

log = logging.getLogger(__name__)


async def run_schedule(runtime: HubRuntime, interval_seconds: float,
                       stop: asyncio.Event) -> None:
    from hub.sync.runner import SyncService, UnknownTarget
    from hub.sync.settings import sync_targets

    service = SyncService(runtime, sync_targets(runtime.settings.sources_file))
    try:
        while not stop.is_set():
            for target in list(service.targets.values()):
                if stop.is_set():
                    break
                try:
                    with background("sync.scheduled", **{"hub.sync.system": target.system}):
                        report = await service.run(target)
                except UnknownTarget as error:
                    log.warning("scheduled sync of %s not run: %s", target.system, error)
                    continue
                except Exception:  # one system's failure must not end the schedule
                    log.exception("scheduled sync of %s failed", target.system)
                    continue
                log.info("scheduled sync of %s: %s, %d records, %s", report.system,
                         report.status, report.records, dict(report.counts))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_seconds)
    finally:
        await service.close()
