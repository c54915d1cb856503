"""``hub audit verify|export|prune``: the operators' tools for the audit log.

They connect to the national database as its owner (``HUB_DATABASE_URL``, or the local
server the other commands use). Exit codes: 0 fine, 1 problems found (verification failed,
pruning refused), 2 a wrong question or nothing to ask it of (bad filter, unreadable keys,
unreachable database, no audit tables). Imports beyond argparse happen inside the commands,
so these cost nothing to the other ``hub`` commands.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import asyncpg

    from hub.audit.chain import KeyFinder

__all__ = ["add_commands", "main"]

T = TypeVar("T")
OK, PROBLEMS, USAGE = 0, 1, 2
SHOWN_PROBLEMS = 20


class CommandError(Exception):
    """A wrong question or an unreachable database: one line, exit code 2."""


def _on_database(action: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    from hub.cli_database import on_national_database

    return on_national_database(action, error=CommandError, missing="audit log tables")


@contextmanager
def _progress(args: argparse.Namespace, total: int | None
              ) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr, when it is a terminal or --progress asks for one; yields
    what to call with each batch's size."""
    if not _show_progress(args):
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=total, unit="rec", unit_scale=True, file=sys.stderr,
              dynamic_ncols=True) as bar:

        def advance(done: int) -> None:
            bar.update(done)

        yield advance


def _show_progress(args: argparse.Namespace) -> bool:
    return bool(args.progress) or sys.stderr.isatty()


# -- verify ------------------------------------------------------------------------------


def _public_key_finder(path: Path) -> KeyFinder:
    """Verification keys from a public JWK set (e.g. the hub's /.well-known/jwks.json):
    an auditor needs no private key to check the log."""
    import json

    from joserfc.jwk import Key, KeySet

    from hub.auth.settings import SIGNING_ALGORITHMS

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "kty" in data:
            data = {"keys": [data]}
        key_set = KeySet.import_key_set(data)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CommandError(f"cannot read the JWK set {path}: {error}") from None
    keys: dict[str, tuple[Key, str]] = {}
    for key in key_set.keys:
        algorithm = key.alg or {"EC": "ES256", "RSA": "RS256"}.get(key.key_type, "")
        if key.kid and algorithm in SIGNING_ALGORITHMS:
            keys[key.kid] = (key, algorithm)
    if not keys:
        raise CommandError(f"{path} holds no ES256 or RS256 key with a kid")
    return keys.get


def _audit_key_file() -> Path:
    """The key file that signs checkpoints, as the hub finds it (HUB_AUDIT_KEY_FILE)."""
    from hub.config import DEFAULT_AUDIT_KEY_FILE

    return Path(os.environ.get("HUB_AUDIT_KEY_FILE") or DEFAULT_AUDIT_KEY_FILE)


def _key_finder(args: argparse.Namespace) -> KeyFinder:
    from hub.auth.keys import SigningKeys

    if args.jwks is not None:
        return _public_key_finder(args.jwks)
    path = args.keys if args.keys is not None else _audit_key_file()
    if not path.exists():
        raise CommandError(f"no audit key file at {path} (set HUB_AUDIT_KEY_FILE, or pass "
                           "--keys or --jwks)")
    return SigningKeys.load(path).find


async def _estimated_records(conn: asyncpg.Connection) -> int | None:
    # The planner's estimate: an exact count would read the whole log once more.
    estimate = await conn.fetchval(
        "SELECT sum(c.reltuples)::bigint FROM pg_inherits i JOIN pg_class c"
        " ON c.oid = i.inhrelid WHERE i.inhparent = 'audit_record'::regclass"
        " AND c.reltuples > 0")
    return int(estimate) if estimate else None


VERIFY_DESCRIPTION = """\
Check every record against its hash and its chain, every checkpoint against its signature
and the checkpoint chain, and every head a checkpoint states against the record still in
the table; name the first tampering. Exit 0: intact; 1: problems; 2: a wrong question.

What the log alone cannot protect: the hash chains are not keyed (anyone can compute
SHA-256), so only the signed checkpoints vouch for records. Records written after a chain's
last checkpoint (a hub killed before its next one, or before its closing one) are vouched
for by nothing: someone who can write to the database can delete the end of such a tail, or
append well-formed records to it, unseen. Such chains are listed as UNCLOSED CHAINS, with how
many records are unprotected; --strict makes them problems. Likewise, the last checkpoints
themselves can be cut off the end of the checkpoint chain. Keep the newest checkpoint's id
and hash, which every run prints, outside the database (a ticket, a printout, another
system) and pass it next time with --expect-checkpoint: a shorter or rewritten checkpoint
chain then shows.
"""


def _checkpoint_copy(text: str) -> tuple[int, bytes]:
    """``ID:HASH`` (as ``hub audit verify`` prints it) -> (id, hash)."""
    number, _, digest = text.strip().lstrip("#").partition(":")
    try:
        checkpoint_id, value = int(number), bytes.fromhex(digest)
    except ValueError:
        checkpoint_id, value = 0, b""
    if checkpoint_id < 1 or len(value) != 32:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not ID:HASH (a checkpoint id and its 64-digit hex hash)")
    return checkpoint_id, value


def _verify(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from hub.audit.verify import VerifyReport, verify_log

    find_key = _key_finder(args)
    if args.grace < 0:
        raise CommandError("--grace must not be negative")
    expect: dict[int, bytes] = {}
    for checkpoint_id, digest in args.expect_checkpoint or ():
        if expect.setdefault(checkpoint_id, digest) != digest:
            raise CommandError(f"--expect-checkpoint names checkpoint #{checkpoint_id} twice, "
                               "with two hashes")

    async def act(conn: asyncpg.Connection) -> VerifyReport:
        total = await _estimated_records(conn) if _show_progress(args) else None
        with _progress(args, total) as progress:
            return await verify_log(conn, find_key, grace=timedelta(seconds=args.grace),
                                    progress=progress, expect=expect)

    report = _on_database(act)
    newest = (f"; newest checkpoint #{report.last_checkpoint[0]} hash "
              f"{report.last_checkpoint[1]}" if report.last_checkpoint else "")
    print(f"checked {report.records:,} record(s) in {report.chains:,} chain(s) and "
          f"{report.checkpoints:,} checkpoint(s){newest}")
    if report.last_checkpoint:
        print("keep it outside the database, and check it next time with --expect-checkpoint "
              f"{report.last_checkpoint[0]}:{report.last_checkpoint[1]}")
    unclosed = report.unclosed
    if unclosed:
        unprotected = sum(chain.unprotected for chain in unclosed)
        label = "problem" if args.strict else "warning"
        print(f"{label}: UNCLOSED CHAINS: {len(unclosed):,} chain(s) stopped without a signed "
              f"close and quiet for over {args.grace:g} s (a hub killed or crashed, or idle); "
              f"{unprotected:,} record(s) after their last checkpoints are unprotected:")
        for chain in unclosed[:SHOWN_PROBLEMS]:
            print(f"  unclosed {chain.describe()}")
        if len(unclosed) > SHOWN_PROBLEMS:
            print(f"  ... and {len(unclosed) - SHOWN_PROBLEMS:,} more")
    strict_failure = bool(args.strict and unclosed)
    if report.ok and not strict_failure:
        print("the audit log is intact")
        return OK
    if report.ok:
        print(f"FAILED (--strict): {len(unclosed):,} unclosed chain(s), whose last records "
              "no signature protects")
        return PROBLEMS
    print(f"FAILED: {report.problem_count:,} problem(s); the first:")
    for problem in report.problems[:SHOWN_PROBLEMS]:
        print(f"  {problem.describe()}")
    if report.problem_count > SHOWN_PROBLEMS:
        print(f"  ... and {report.problem_count - SHOWN_PROBLEMS:,} more")
    if strict_failure:
        print(f"FAILED (--strict) as well: {len(unclosed):,} unclosed chain(s)")
    return PROBLEMS


# -- export ------------------------------------------------------------------------------


def _export(args: argparse.Namespace) -> int:
    from hub.audit.export import ExportFilter, count_records, export_records, parse_moment

    selection = ExportFilter(
        start=parse_moment(args.start, "--from") if args.start is not None else None,
        end=parse_moment(args.end, "--to") if args.end is not None else None,
        client=args.client, subject=args.subject)

    async def act(conn: asyncpg.Connection) -> int:
        # One snapshot for the count and the lines.
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            total = await count_records(conn, selection) if _show_progress(args) else None
            with _progress(args, total) as progress:
                if args.output is None:
                    written = await export_records(conn, selection, sys.stdout.buffer,
                                                   progress=progress)
                    sys.stdout.buffer.flush()
                    return written
                try:
                    out = args.output.open("wb")
                except OSError as error:
                    raise CommandError(f"cannot write {args.output}: {error}") from None
                with out:
                    return await export_records(conn, selection, out, progress=progress)

    try:
        written = _on_database(act)
    except BrokenPipeError:
        # The reader went away (``| head``): not an error of the export. Stop quietly, and
        # keep Python from complaining when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return OK
    print(f"exported {written:,} record(s)" + (f" to {args.output}" if args.output else ""),
          file=sys.stderr)
    return OK


# -- prune -------------------------------------------------------------------------------


def _prune(args: argparse.Namespace) -> int:
    from hub.audit.retention import PrunePlan, PruneRefused, keep_months_from_env, prune
    from hub.auth.keys import SigningKeys

    keep = args.keep_months if args.keep_months is not None else keep_months_from_env()
    if keep < 1:
        raise CommandError("--keep-months must be at least 1")
    keys = None
    path = _audit_key_file()
    if path.exists():
        # Also for a dry run: what would be dropped is verified first (refused if it fails).
        keys = SigningKeys.load(path)
    elif not args.dry_run:
        raise CommandError(f"no audit key file at {path}: the retention checkpoint must "
                           "be signed with the hub's audit key (set HUB_AUDIT_KEY_FILE)")

    async def act(conn: asyncpg.Connection) -> PrunePlan:
        return await prune(conn, keys, keep, dry_run=args.dry_run)

    try:
        plan = _on_database(act)
    except PruneRefused as error:
        print(f"hub audit prune: refused: {error}", file=sys.stderr)
        return PROBLEMS
    names = ", ".join(p.name for p in plan.partitions)
    if not plan.partitions:
        print(f"nothing to prune: no partition ends before {plan.cutoff:%Y-%m-%d} "
              f"(keeping {keep} month(s))")
    elif args.dry_run:
        print(f"would drop {len(plan.partitions)} partition(s) before {plan.cutoff:%Y-%m-%d} "
              f"({plan.records:,} record(s)): {names}; a retention checkpoint would anchor "
              f"{len(plan.anchors)} chain(s)")
    else:
        anchored = (f"retention checkpoint #{plan.checkpoint} anchors {len(plan.anchors)} "
                    "chain(s)" if plan.checkpoint else "no chain had records there")
        print(f"dropped {len(plan.partitions)} partition(s) before {plan.cutoff:%Y-%m-%d} "
              f"({plan.records:,} record(s)): {names}; {anchored}")
    return OK


def _reporting(command: Callable[[argparse.Namespace], int]
               ) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        import asyncpg

        try:
            return command(args)
        except (CommandError, ValueError, RuntimeError, asyncpg.PostgresError) as error:
            # Filters, settings, key files, the database: one line each, no traceback.
            print(f"hub audit {args.audit_command}: {error}", file=sys.stderr)
            return USAGE

    return run


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``audit`` and its subcommands to the ``hub`` command line."""
    audit = subparsers.add_parser("audit", help="verify, export and prune the audit log")
    commands = audit.add_subparsers(dest="audit_command", required=True)
    progress = argparse.ArgumentParser(add_help=False)
    progress.add_argument("--progress", action="store_true",
                          help="show a progress bar on stderr (default: when it is a terminal)")

    verify = commands.add_parser(
        "verify", parents=[progress], description=VERIFY_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="check every record, chain and signed checkpoint; name the first tampering")
    keys = verify.add_mutually_exclusive_group()
    keys.add_argument("--keys", type=Path, metavar="FILE",
                      help="the hub's audit key file (default: HUB_AUDIT_KEY_FILE, else "
                           ".hub/keys/audit.jwks)")
    keys.add_argument("--jwks", type=Path, metavar="FILE",
                      help="a public JWK set instead, e.g. the hub's /.well-known/jwks.json")
    verify.add_argument("--grace", type=float, default=60.0, metavar="SECONDS",
                        help="a chain with no close is listed as unclosed once it has been "
                             "quiet this long: its records after its last checkpoint, or else "
                             "its last record and checkpoint, are older (default: 60)")
    verify.add_argument("--strict", action="store_true",
                        help="count unclosed chains as problems (exit 1): their records "
                             "after the last checkpoint are protected by no signature. A hub "
                             "idle for longer than --grace also has one; run it with a grace "
                             "longer than that, or with the hubs stopped")
    verify.add_argument("--expect-checkpoint", type=_checkpoint_copy, action="append",
                        metavar="ID:HASH",
                        help="a checkpoint as an earlier run printed it, kept outside the "
                             "database: a problem if the log holds no checkpoint ID or it has "
                             "another hash (checkpoints cut off the end, or rewritten); "
                             "repeatable")
    verify.set_defaults(run=_reporting(_verify))

    export = commands.add_parser(
        "export", parents=[progress], help="write records as JSON Lines, in time order")
    export.add_argument("--from", dest="start", metavar="WHEN",
                        help="from this ISO date or datetime on (UTC unless it has an offset)")
    export.add_argument("--to", dest="end", metavar="WHEN",
                        help="before this ISO date or datetime (exclusive)")
    export.add_argument("--client", metavar="ID", help="only this client's records")
    export.add_argument("--subject", metavar="PERSONAL_ID",
                        help="only records that disclosed something of this person")
    export.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="write here instead of stdout")
    export.set_defaults(run=_reporting(_export))

    prune = commands.add_parser(
        "prune", help="drop monthly partitions past the retention period, after verifying "
                      "their records and signing a retention checkpoint")
    prune.add_argument("--keep-months", type=int, metavar="N",
                       help="keep this month and the N full months before it (default: "
                            "HUB_AUDIT_RETENTION_MONTHS or 60)")
    prune.add_argument("--dry-run", action="store_true",
                       help="say what would be dropped (verified first, when the audit key "
                            "is at hand); change nothing")
    prune.set_defaults(run=_reporting(_prune))


def main(argv: list[str] | None = None) -> int:
    """``hub audit ...`` on its own: ``main(["audit", "verify"])``."""
    parser = argparse.ArgumentParser(prog="hub")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
