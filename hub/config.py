"""Hub settings, read from the environment once at start-up."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["DEFAULT_AUDIT_KEY_FILE", "PROJECT_ROOT", "Settings", "env_int", "graphiql_assets_dir",
           "policy_dir", "replica_urls"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


# Folders more than one command needs: resolved here only, so the server and every `hub`
# command agree on them.
# Signs the audit log's checkpoints (HUB_AUDIT_KEY_FILE); created on first use.
DEFAULT_AUDIT_KEY_FILE = PROJECT_ROOT / ".hub/keys/audit.jwks"

def policy_dir() -> Path:
    """HUB_POLICY_DIR, else the repository's ``policies/``."""
    return Path(os.environ.get("HUB_POLICY_DIR") or PROJECT_ROOT / "policies")


def graphiql_assets_dir() -> Path:
    """HUB_GRAPHIQL_ASSETS, else ``.hub/graphiql``: GraphiQL's scripts, served by the hub."""
    return Path(os.environ.get("HUB_GRAPHIQL_ASSETS") or PROJECT_ROOT / ".hub/graphiql")


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int, minimum: int, maximum: int) -> int:
    """An integer setting within bounds, refused with a message naming it otherwise."""
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, not {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ValueError(f"{name} must be between {minimum} and {maximum}, not {value}")
    return value


# Entries of HUB_DATABASE_REPLICA_URLS are split at a comma that starts another URL: a libpq
# URL may itself hold commas (several hosts: postgresql://a:5432,b:5432/hub).
_NEXT_URL = re.compile(r",\s*(?=[A-Za-z][A-Za-z0-9+.-]*://)")
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[^:\[\]/\s]*)(?::(\d*))?")


def _hidden(url: str) -> str:
    """A URL as an error message may show it: without its password."""
    scheme, _, rest = url.partition("://")
    credentials, at, hosts = rest.partition("@")
    if at and ":" in credentials:
        return f"{scheme}://{credentials.split(':', 1)[0]}:***@{hosts}"
    return url


def replica_urls(raw: str, primary: str) -> tuple[str, ...]:
    """HUB_DATABASE_REPLICA_URLS: libpq URLs of standbys of ``primary``, comma-separated;
    each checked for what can be checked without connecting."""
    name = "HUB_DATABASE_REPLICA_URLS"
    if not raw.strip():
        return ()
    urls: list[str] = []
    for number, entry in enumerate(_NEXT_URL.split(raw.strip()), start=1):
        url = entry.strip().rstrip(",").strip()
        where = f"{name}: entry {number} ({_hidden(url) or 'empty'})"
        parts = urlsplit(url)
        if parts.scheme not in ("postgresql", "postgres") or not url.startswith(
                f"{parts.scheme}://"):
            raise ValueError(f"{where} must be a postgresql:// URL")
        hosts = parts.netloc.rpartition("@")[2]
        if not hosts and "host=" not in parts.query:
            raise ValueError(f"{where} names no host")
        for host in hosts.split(",") if hosts else ():
            matched = _HOST.fullmatch(host)
            if matched is None or not matched.group(1):
                raise ValueError(f"{where} has a malformed host {host!r}")
            port = matched.group(2)
            if port is not None and not (port.isdigit() and 0 < int(port) < 65_536):
                raise ValueError(f"{where} has a malformed port {port!r}")
        if "/" in parts.path.lstrip("/") or re.search(r"[\s,]", parts.path):
            raise ValueError(f"{where} has a malformed database name (another URL must "
                             "follow a comma)")
        if url == primary:
            raise ValueError(f"{where} is HUB_DATABASE_URL itself: name the standbys")
        if url in urls:
            raise ValueError(f"{where} is named twice")
        urls.append(url)
    return tuple(urls)


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if not value else int(value)


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    sources_file: Path
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    # Longer than any load balancer's or client's idle timeout in front of the hub (60 s is
    # common): a connection it keeps must never be closed by the hub just as a request is sent
    # on it, which the client sees as a reset.
    keepalive_seconds: int = 75
    graphiql: bool = True
    expose_source_calls: bool = False
    plan_executor: bool = True
    max_page_size: int = 100
    max_query_tokens: int = 10_000
    max_depth: int = 12
    max_aliases: int = 30
    max_root_fields: int = 20
    max_query_cost: int = 50_000
    introspection: bool = True
    db_pool_min: int = 2
    db_pool_max: int = 10
    db_timeout_seconds: float = 5.0
    policy_dir: Path = PROJECT_ROOT / "policies"
    policy_watch: bool = True
    mask_secret_file: Path = PROJECT_ROOT / ".hub/keys/mask.secret"
    graphiql_assets: Path = PROJECT_ROOT / ".hub/graphiql"
    # The role the hub acts as in PostgreSQL (migration 0008): it may read the national
    # database and append to the audit log, never change or remove an audit record.
    database_role: str | None = "hub_runtime"
    # Standbys of the national database that answer query traffic (none: the primary does),
    # out of rotation beyond the lag bound; measured every check interval.
    database_replica_urls: tuple[str, ...] = ()
    replica_max_lag_seconds: float = 30.0
    replica_check_seconds: float = 2.0
    audit: bool = True
    # The key that signs audit checkpoints: not the token-signing key, which is rotated and
    # retired for other reasons (a retired key must keep verifying the log's past).
    audit_key_file: Path = DEFAULT_AUDIT_KEY_FILE
    audit_checkpoint_seconds: float = 10.0
    audit_timeout_seconds: float = 5.0
    # How long after signing a submitted change may still be taken (SIGNATURE_TOO_OLD).
    submission_max_age_days: int = 30
    # Rate limits: shared through Redis when given; the defaults for clients whose policy
    # sets none (0: no default limit).
    redis_url: str | None = None
    redis_prefix: str = "hub:"  # several hubs (or tests) may share one Redis
    rate_limit_per_minute: int = 0
    rate_limit_burst: int = 0
    # Token requests per client id a minute, and at once (0: no limit).
    token_rate_per_minute: int = 0
    token_rate_burst: int = 0
    # Scheduled synchronisation of the agency HR systems inside the server (0: off).
    sync_interval_seconds: int = 0
    # Scheduled data-quality measurement inside the server (0: off).
    quality_interval_seconds: int = 0

    @classmethod
    def from_env(cls) -> Settings:
        database_url = os.environ.get("HUB_DATABASE_URL") or os.environ.get("DATABASE_URL")
        if not database_url:
            raise RuntimeError("set HUB_DATABASE_URL (or DATABASE_URL) to the national "
                               "database, e.g. postgresql://postgres@127.0.0.1:5432/hub")
        return cls(
            database_url=database_url,
            sources_file=Path(os.environ.get("HUB_SOURCES", PROJECT_ROOT / "config/sources.yaml")),
            host=os.environ.get("HUB_HOST", "127.0.0.1"),
            port=_int("HUB_PORT", 8000),
            workers=_int("HUB_WORKERS", 1),
            keepalive_seconds=env_int("HUB_KEEPALIVE_SECONDS", 75, 1, 3600),
            graphiql=_flag("HUB_GRAPHIQL", True),
            expose_source_calls=_flag("HUB_EXPOSE_SOURCE_CALLS", False),
            plan_executor=_flag("HUB_PLAN_EXECUTOR", True),
            max_page_size=_int("HUB_MAX_PAGE_SIZE", 100),
            max_query_tokens=_int("HUB_MAX_QUERY_TOKENS", 10_000),
            max_depth=env_int("HUB_MAX_DEPTH", 12, 1, 100),
            max_aliases=env_int("HUB_MAX_ALIASES", 30, 0, 10_000),
            max_root_fields=env_int("HUB_MAX_ROOT_FIELDS", 20, 1, 1_000),
            max_query_cost=env_int("HUB_MAX_QUERY_COST", 50_000, 1, 100_000_000),
            introspection=_flag("HUB_INTROSPECTION", True),
            db_pool_min=_int("HUB_DB_POOL_MIN", 2),
            db_pool_max=_int("HUB_DB_POOL_MAX", 10),
            db_timeout_seconds=float(os.environ.get("HUB_DB_TIMEOUT_SECONDS", "5")),
            policy_dir=policy_dir(),
            policy_watch=_flag("HUB_POLICY_WATCH", True),
            mask_secret_file=Path(os.environ.get("HUB_MASK_SECRET_FILE",
                                                 PROJECT_ROOT / ".hub/keys/mask.secret")),
            graphiql_assets=graphiql_assets_dir(),
            database_role=os.environ.get("HUB_DATABASE_ROLE", "hub_runtime") or None,
            database_replica_urls=replica_urls(
                os.environ.get("HUB_DATABASE_REPLICA_URLS", ""), database_url),
            replica_max_lag_seconds=float(env_int("HUB_REPLICA_MAX_LAG_SECONDS", 30, 1,
                                                  86_400)),
            replica_check_seconds=float(env_int("HUB_REPLICA_CHECK_SECONDS", 2, 1, 60)),
            audit=_flag("HUB_AUDIT", True),
            audit_key_file=Path(os.environ.get("HUB_AUDIT_KEY_FILE", DEFAULT_AUDIT_KEY_FILE)),
            audit_checkpoint_seconds=float(env_int("HUB_AUDIT_CHECKPOINT_SECONDS", 10, 1, 3600)),
            audit_timeout_seconds=float(env_int("HUB_AUDIT_TIMEOUT_SECONDS", 5, 1, 60)),
            submission_max_age_days=env_int("HUB_SUBMISSION_MAX_AGE_DAYS", 30, 1, 3660),
            redis_url=os.environ.get("HUB_REDIS_URL") or os.environ.get("REDIS_URL") or None,
            redis_prefix=os.environ.get("HUB_REDIS_PREFIX") or "hub:",
            rate_limit_per_minute=env_int("HUB_RATE_LIMIT_PER_MINUTE", 0, 0, 1_000_000),
            rate_limit_burst=env_int("HUB_RATE_LIMIT_BURST", 0, 0, 100_000),
            token_rate_per_minute=env_int("HUB_TOKEN_RATE_PER_MINUTE", 0, 0, 1_000_000),
            token_rate_burst=env_int("HUB_TOKEN_RATE_BURST", 0, 0, 100_000),
            sync_interval_seconds=env_int("HUB_SYNC_INTERVAL_SECONDS", 0, 0, 7 * 86_400),
            quality_interval_seconds=env_int("HUB_QUALITY_INTERVAL_SECONDS", 0, 0,
                                             31 * 86_400),
        )
