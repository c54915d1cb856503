"""Which agency systems are synchronised, and how: the ``feed`` and ``sync`` sections of each
system's entry in the source registry (``config/sources.yaml``).

``feed`` says how the system's change feed is read (``kind: rest``: path and parameter names;
``kind: graphql``: the root field and argument names); a system whose adapter reads its own
changes (a database read directly, a file drop) needs none. ``sync`` says who the synchronisation
acts as: the client whose policy file (``policies/``) grants the changes it may submit
(``client``, ``purpose``), the private key it signs them with (``key_file``, registered in the
signer key registry for the client's agency: ``hub sync keygen``), the prefix of the employee
codes it registers new hires under, and the page size. A system without a ``sync`` section is
not synchronised.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.change_feeds import GraphQLFeedConfig, RestFeedConfig
from hub.config import PROJECT_ROOT
from hub.source_config import agency_system_entries

__all__ = ["DEFAULT_PAGE_SIZE", "SyncTarget", "sync_targets"]

DEFAULT_PAGE_SIZE = 500
_PREFIX = re.compile(r"[A-Z][A-Z0-9]{0,11}")


@dataclass(frozen=True, slots=True)
class SyncTarget:
    system: str
    serves: tuple[str, ...]
    # None: the system's adapter reads its own changes (a database, a file drop)
    feed: RestFeedConfig | GraphQLFeedConfig | None
    client_id: str
    purpose: str
    key_file: Path
    code_prefix: str
    page_size: int = DEFAULT_PAGE_SIZE


def _feed(name: str, raw: Mapping[str, Any]) -> RestFeedConfig | GraphQLFeedConfig:
    kind = raw.get("kind")
    if kind == "rest":
        return RestFeedConfig(
            path=str(raw["path"]), since_param=str(raw["since_param"]),
            cursor_param=str(raw["cursor_param"]), limit_param=str(raw["limit_param"]),
            records_field=str(raw["records_field"]), next_field=str(raw["next_field"]),
            max_page=int(raw.get("max_page", 1000)))
    if kind == "graphql":
        names = ("field", "since_argument", "first_argument", "after_argument", "nodes_field",
                 "cursor_field", "more_field", "since_type")
        return GraphQLFeedConfig(**{n: str(raw[n]) for n in names if n in raw},
                                 max_page=int(raw.get("max_page", 1000)))
    raise ValueError(f"agency system {name!r}: feed kind must be rest or graphql, "
                     f"not {kind!r}")


def _target(name: str, entry: Mapping[str, Any]) -> SyncTarget:
    sync = entry["sync"]
    prefix = str(sync["employee_code_prefix"])
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"agency system {name!r}: employee_code_prefix must be 1-12 capital "
                         f"letters and digits, starting with a letter, not {prefix!r}")
    page_size = int(sync.get("page_size", DEFAULT_PAGE_SIZE))
    if not 1 <= page_size <= 1000:
        raise ValueError(f"agency system {name!r}: page_size must be 1 to 1000")
    key_file = Path(str(sync["key_file"]))
    return SyncTarget(
        system=name, serves=tuple(str(p) for p in entry["serves"]),
        feed=_feed(name, entry["feed"]) if "feed" in entry else None,
        client_id=str(sync["client"]),
        purpose=str(sync.get("purpose", "synchronisation")),
        key_file=key_file if key_file.is_absolute() else PROJECT_ROOT / key_file,
        code_prefix=prefix, page_size=page_size)


def sync_targets(sources_file: Path) -> dict[str, SyncTarget]:
    """The synchronised systems of the source registry, by name (in the file's order)."""
    targets = {}
    for name, entry in agency_system_entries(sources_file).items():
        if "sync" not in entry:
            continue
        try:
            targets[name] = _target(name, entry)
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{sources_file}: agency system {name!r}: invalid feed or sync "
                             f"settings: {error}") from error
    return targets
