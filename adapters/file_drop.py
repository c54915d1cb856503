"""An agency HR system that drops full exports into a directory (``kind: file-drop``).

Lookups answer from the newest complete export, parsed once (in a worker thread, so the event
loop keeps serving) and kept until a newer one appears; the directory is listed again at most
every ``rescan_seconds``. An export that cannot be read (over its size or row bound, malformed)
is refused and reported by ``ping``; lookups then go on answering from the newest export that
could be read. Rows that cannot be read are left out, with their reasons (``problems``).

The change feed compares consecutive exports: the records of the newest export that are new
or differ from the export processed before it. Its watermark names the export being read, the
position reached in it and the export it is compared with, so a rerun from the same watermark
yields the same records and a run stopped midway resumes where it stopped. Exports that
arrived in between are skipped: each is a full picture, and the newest one is the truth.
People missing from a newer export (left the agency) are not reported: a record says what an
agency holds, not what it dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from adapters.call_log import record_call
from adapters.change_feeds import ChangePage
from adapters.drop_directory import FORMATS, DropDirectory, DropFile, DropRefused
from adapters.drop_export import Export, ExportFormat, RowProblem, read_export
from adapters.errors import SourceTimeout, SourceUnavailable
from adapters.filters import RowFilter
from adapters.observe import observe

__all__ = ["FileDropConfig", "FileDropSystem"]

log = logging.getLogger(__name__)

_WATERMARK_PREFIX: Final = "drop1:"
_KEPT_EXPORTS: Final = 3  # the one served, the one compared with, one arriving


@dataclass(frozen=True, slots=True)
class FileDropConfig:
    name: str
    serves: tuple[str, ...]
    directory: Path
    export: ExportFormat
    prefix: str = "nhansu_"
    formats: tuple[str, ...] = FORMATS
    max_file_bytes: int = 64 * 1024 * 1024
    rescan_seconds: float = 1.0
    # How long a lookup may wait for an export to be parsed (the parse itself goes on).
    timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.max_file_bytes < 1 or self.rescan_seconds < 0 or self.timeout_seconds <= 0:
            raise ValueError(f"{self.name}: max_file_bytes and timeout_seconds must be "
                             "positive, rescan_seconds not negative")
        DropDirectory(self.directory, self.prefix, self.formats)  # checks both, reads nothing


@dataclass(frozen=True, slots=True)
class _Parsed:
    drop: DropFile
    export: Export
    by_personal_id: dict[str, list[dict[str, Any]]] = field(repr=False)
    # (personal ID, local ID) -> record: what the feed compares a newer export against
    by_identity: dict[tuple[Any, Any], dict[str, Any]] = field(repr=False)


def _parsed(drop: DropFile, export: Export) -> _Parsed:
    by_personal_id: dict[str, list[dict[str, Any]]] = {}
    by_identity: dict[tuple[Any, Any], dict[str, Any]] = {}
    for record in export.records:
        by_personal_id.setdefault(record["personal_id"], []).append(record)
        by_identity[(record["personal_id"], record["local_id"])] = record
    return _Parsed(drop, export, by_personal_id, by_identity)


class FileDropSystem:
    def __init__(self, config: FileDropConfig, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._config = config
        self.name = config.name
        self.serves = config.serves
        self._directory = DropDirectory(config.directory, config.prefix, config.formats)
        self._clock = clock
        self._kept: OrderedDict[str, _Parsed] = OrderedDict()
        self._parsing: dict[DropFile, asyncio.Task[_Parsed]] = {}
        # name -> (the version refused, why): not parsed again until the file changes
        self._refused: dict[str, tuple[DropFile, str]] = {}
        self._serving: _Parsed | None = None
        self._newest_read: _Parsed | None = None
        self._listed_at: float | None = None

    # -- the directory -------------------------------------------------------------------

    async def _list(self) -> list[DropFile]:
        try:
            return await asyncio.to_thread(self._directory.complete_files)
        except OSError as exc:
            log.error("%s: cannot list %s: %s", self.name, self._config.directory, exc)
            raise SourceUnavailable(self.name, "its drop directory cannot be read") from exc

    async def _load(self, drop: DropFile) -> _Parsed:
        """The parsed export (DropRefused if it cannot be read), parsed once per version
        however many callers wait for it; a caller giving up does not stop the parse."""
        kept = self._kept.get(drop.name)
        if kept is not None and kept.drop.identity == drop.identity:
            self._kept.move_to_end(drop.name)
            return kept
        refused = self._refused.get(drop.name)
        if refused is not None and refused[0].identity == drop.identity:
            raise DropRefused(refused[1])
        task = self._parsing.get(drop)
        if task is None:
            task = self._parsing[drop] = asyncio.get_running_loop().create_task(
                self._parse(drop))
            # Retrieved here when every caller gave up: a refusal is logged, not lost.
            task.add_done_callback(lambda done: done.cancelled() or done.exception())
        return await asyncio.shield(task)

    async def _parse(self, drop: DropFile) -> _Parsed:
        try:
            try:
                parsed = await asyncio.to_thread(self._read, drop)
            except (DropRefused, OSError):
                raise
            except Exception as error:
                # Whatever else a foreign file provokes refuses that file, never the hub.
                log.exception("%s: export %s could not be parsed", self.name, drop.name)
                raise DropRefused(f"could not be parsed ({type(error).__name__})") from None
        except DropRefused as refusal:
            self._refused[drop.name] = (drop, str(refusal))
            log.error("%s: export %s refused: it %s", self.name, drop.name, refusal)
            raise
        except OSError as exc:
            log.error("%s: cannot read %s: %s", self.name, drop.name, exc)
            raise SourceUnavailable(self.name, "an export cannot be read") from exc
        finally:
            self._parsing.pop(drop, None)
        self._kept[drop.name] = parsed
        if self._newest_read is None or drop > self._newest_read.drop:
            self._newest_read = parsed
        while len(self._kept) > _KEPT_EXPORTS:
            self._kept.popitem(last=False)
        _report(self.name, drop, parsed.export.problems)
        return parsed

    def _read(self, drop: DropFile) -> _Parsed:
        data = self._directory.read(drop, self._config.max_file_bytes)
        return _parsed(drop, read_export(data, drop.format, self._config.export))

    async def _newest_readable(self, files: list[DropFile]) -> _Parsed:
        for drop in reversed(files):
            try:
                return await self._load(drop)
            except DropRefused:
                continue  # an older export still says what the agency held then
        raise SourceUnavailable(self.name, "no readable export in its drop directory")

    async def _current(self) -> _Parsed:
        now = self._clock()
        if (self._serving is not None and self._listed_at is not None
                and now - self._listed_at < self._config.rescan_seconds):
            return self._serving
        try:
            async with asyncio.timeout(self._config.timeout_seconds):
                serving = await self._newest_readable(await self._list())
        except TimeoutError as exc:
            raise SourceTimeout(self.name, "its newest export is still being read") from exc
        self._serving, self._listed_at = serving, now
        return serving

    # -- lookups -------------------------------------------------------------------------

    async def fetch_many(self, keys: Sequence[str], columns: Sequence[str],
                         row_filter: RowFilter = ()) -> list[dict[str, Any]]:
        record_call(self.name)
        with observe(self.name, "lookup", batch=len(keys)) as seen:
            parsed = await self._current()
            wanted = tuple(dict.fromkeys([*columns, *(c.column for c in row_filter)]))
            rows = [{c: record.get(c) for c in wanted}
                    for key in dict.fromkeys(keys)
                    for record in parsed.by_personal_id.get(key, ())]
            if row_filter:
                rows = [r for r in rows if all(c.matches(r) for c in row_filter)]
            seen.rows = len(rows)
        return rows

    def problems(self) -> tuple[str, tuple[RowProblem, ...]] | None:
        """The rows left out of the newest export read so far (for lookups or the feed):
        (its name, the rows with their reasons); None before any export was read."""
        read = self._newest_read
        return None if read is None else (read.drop.name, read.export.problems)

    async def ping(self) -> None:
        files = await self._list()
        if not files:
            raise SourceUnavailable(self.name, "no complete export in its drop directory")
        try:
            async with asyncio.timeout(self._config.timeout_seconds):
                await self._load(files[-1])
        except TimeoutError as exc:
            raise SourceTimeout(self.name, "its newest export is still being read") from exc
        except DropRefused as refusal:
            raise SourceUnavailable(self.name, f"its newest export {files[-1].name} was "
                                    f"refused: it {refusal}") from None

    # -- the change feed -----------------------------------------------------------------

    async def changes(self, watermark: str | None, limit: int) -> ChangePage:
        """The records of the newest export that differ from the export read before it. The
        watermark is ``drop1:<export>:<position>:<export compared with, or empty>``."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        position = self._read_watermark(watermark)
        record_call(self.name)
        files = await self._list()
        by_name = {f.name: f for f in files}
        newest = files[-1] if files else None
        if position is None:
            if newest is None:
                return ChangePage([], None, more=False)
            target, index, base = newest, 0, None
        else:
            name, index, base_name = position
            current = by_name.get(name)
            base = by_name.get(base_name) if base_name else None
            if current is not None and index < len((await self._feed_load(current)
                                                    ).export.records):
                target = current  # finish the export begun before moving on
            else:
                later = [f for f in files if (f.stamp, f.name) > self._order_of(name)]
                if not later:
                    return ChangePage([], watermark, more=False)
                # Done with that export (or it is gone, and compared with the one it was
                # compared with, a superset of its changes comes again).
                target, index = later[-1], 0
                base = current if current is not None else base
        read = await self._feed_load(target)
        started = index
        against = (await self._feed_load(base)).by_identity if base is not None else {}
        records: list[dict[str, Any]] = []
        total = len(read.export.records)
        while index < total and len(records) < limit:
            record = read.export.records[index]
            index += 1
            if against.get((record["personal_id"], record["local_id"])) != record:
                records.append(record)
        more = index < total or any((f.stamp, f.name) > (target.stamp, target.name)
                                    for f in files)
        mark = f"{_WATERMARK_PREFIX}{target.name}:{index}:{base.name if base else ''}"
        # The rows of the export that could not be read come with its first page: whoever
        # reads the feed reports them (they are the agency's to correct), never loses them.
        rejected = tuple({"source": target.name, "row": p.row, "reasons": list(p.reasons)}
                         for p in read.export.problems) if started == 0 else ()
        return ChangePage([dict(r) for r in records], mark, more=more, rejected=rejected)

    async def _feed_load(self, drop: DropFile) -> _Parsed:
        """An export the feed needs; one that cannot be read stops the feed (it must not
        quietly skip what the agency sent)."""
        try:
            async with asyncio.timeout(self._config.timeout_seconds):
                return await self._load(drop)
        except TimeoutError as exc:
            raise SourceTimeout(self.name, f"export {drop.name} is still being read") from exc
        except DropRefused as refusal:
            raise SourceUnavailable(self.name, f"export {drop.name} was refused: it "
                                    f"{refusal}") from None

    def _order_of(self, name: str) -> tuple[str, str]:
        parsed = self._directory.parse_name(name)
        assert parsed is not None  # checked with the watermark
        return parsed[0], name

    def _read_watermark(self, watermark: str | None) -> tuple[str, int, str] | None:
        if watermark is None:
            return None
        if not isinstance(watermark, str) or not watermark.startswith(_WATERMARK_PREFIX):
            raise ValueError(f"{self.name}: not a watermark of this feed")
        parts = watermark[len(_WATERMARK_PREFIX):].split(":")
        if len(parts) != 3:
            raise ValueError(f"{self.name}: malformed watermark")
        name, index, base = parts
        # Only names of complete exports of this directory: a watermark can never lead the
        # feed to any other file (no separators, no '..', no other prefix).
        if (self._directory.parse_name(name) is None
                or (base and self._directory.parse_name(base) is None)
                or not index.isascii() or not index.isdigit() or len(index) > 9):
            raise ValueError(f"{self.name}: malformed watermark")
        return name, int(index), base


def _report(source: str, drop: DropFile, problems: tuple[RowProblem, ...]) -> None:
    """Rows left out, once per export: how many, and the first few with their reasons."""
    if not problems:
        return
    shown = "; ".join(f"row {p.row}: {', '.join(p.reasons)}" for p in problems[:5])
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    log.warning("%s: export %s: %d row(s) left out: %s%s", source, drop.name, len(problems),
                shown, more)
