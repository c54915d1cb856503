"""``hub signer add|revoke|list|keygen``: the signer key registry by hand.

The registry is written as the national database's owner (``HUB_DATABASE_URL``, or the local
server the other commands use): the hub itself may only read it. Exit codes: 0 done, 1 refused
(a key file that cannot be registered, an unknown or duplicate kid), 2 a wrong question or
nothing to ask it of (bad arguments, unreachable database). Imports beyond argparse happen
inside the commands, so these cost nothing to the other ``hub`` commands.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import asyncpg

    from hub.updates.keys import OwnerKind, SignerKey

__all__ = ["add_commands"]

T = TypeVar("T")
OK, REFUSED, USAGE = 0, 1, 2
#: ``hub.updates.keys.ALGORITHMS``, repeated so that building the parser imports nothing.
KEYGEN_ALGORITHMS = ("ES256", "RS256", "EdDSA")


class Refused(Exception):
    """The request was understood and refused: one line, exit code 1."""


class UsageError(Exception):
    """A wrong question or an unreachable database: one line, exit code 2."""


def _on_database(action: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    from hub.cli_database import on_national_database

    return on_national_database(action, error=UsageError, missing="signer_key table")


def _moment(text: str) -> datetime:
    """An ISO 8601 date or time; without an offset it is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or time: {text!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _day(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M}Z"


def _owner(args: argparse.Namespace) -> tuple[OwnerKind, str] | tuple[None, None]:
    if args.agency:
        return "agency", args.agency
    if args.employee:
        return "employee", args.employee
    return None, None


def _add(args: argparse.Namespace) -> int:
    from hub.updates.keys import add_signer_key, read_jwk_file, signer_jwk

    owner_kind, owner_id = _owner(args)
    assert owner_kind is not None  # argparse requires --agency or --employee
    assert owner_id is not None
    try:
        jwk = read_jwk_file(Path(args.jwk))
        signer_jwk(jwk, public_only=args.public_only)  # refuse before connecting
    except ValueError as error:
        raise Refused(str(error)) from None

    async def act(conn: asyncpg.Connection) -> SignerKey:
        return await add_signer_key(conn, owner_kind, owner_id, jwk,
                                    valid_from=args.valid_from, valid_until=args.valid_until,
                                    public_only=args.public_only)

    try:
        key = _on_database(act)
    except ValueError as error:
        raise Refused(str(error)) from None
    print(f"registered {key.algorithm} key {key.kid} for {key.owner}, signing from "
          f"{_day(key.valid_from)} until {_day(key.valid_until)}")
    return OK


def _revoke(args: argparse.Namespace) -> int:
    from hub.updates.keys import revoke_signer_key

    async def act(conn: asyncpg.Connection) -> SignerKey | None:
        return await revoke_signer_key(conn, args.kid, at=args.at)

    key = _on_database(act)
    if key is None:
        raise Refused(f"no registered key has kid {args.kid}")
    assert key.revoked_at is not None
    print(f"revoked key {key.kid} of {key.owner} from {_day(key.revoked_at)}: it signs "
          "nothing dated from then on")
    return OK


def _list(args: argparse.Namespace) -> int:
    from hub.updates.keys import list_signer_keys

    owner_kind, owner_id = _owner(args)

    async def act(conn: asyncpg.Connection) -> list[SignerKey]:
        return await list_signer_keys(conn, owner_kind=owner_kind,
                                      owner_id=owner_id)

    keys = _on_database(act)
    if not keys:
        print("no signer keys registered" + (f" for {owner_kind} {owner_id}" if owner_id
                                             else ""))
        return OK
    now = datetime.now(UTC)
    rows = [("OWNER", "KID", "ALG", "VALID FROM", "VALID UNTIL", "STATUS")]
    for key in keys:
        if key.revoked_at is not None:
            status = f"revoked {_day(key.revoked_at)}"
        elif now < key.valid_from:
            status = "not yet valid"
        elif now >= key.valid_until:
            status = "expired"
        else:
            status = "active"
        rows.append((key.owner, key.kid, key.algorithm, _day(key.valid_from),
                     _day(key.valid_until), status))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
              .rstrip())
    return OK


def _keygen(args: argparse.Namespace) -> int:
    from hub.updates.keys import generate_signer_key

    path = Path(args.out)
    key = generate_signer_key(args.alg)
    body = json.dumps(key.as_dict(private=True), indent=2) + "\n"
    try:
        # O_EXCL: never overwrite a key that may already be registered; 0600: it is private.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise Refused(f"{path} exists: not overwriting a private key") from None
    except OSError as error:
        raise Refused(f"cannot write {path}: {error.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(body)
    print(json.dumps(key.as_dict(private=False)))
    print(f"wrote the private key {key.kid} ({args.alg}) to {path}; register its public part "
          f"with `hub signer add --agency CODE --jwk {path} --public-only`", file=sys.stderr)
    return OK


def _reporting(command: Callable[[argparse.Namespace], int]
               ) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except Refused as error:
            print(f"hub: {error}", file=sys.stderr)
            return REFUSED
        except UsageError as error:
            print(f"hub: {error}", file=sys.stderr)
            return USAGE

    return run


def _owner_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    owner = parser.add_mutually_exclusive_group(required=required)
    owner.add_argument("--agency", metavar="CODE", help="an agency's key (its HR office)")
    owner.add_argument("--employee", metavar="CODE",
                       help="an employee's key (for their own declarations)")


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``signer`` and ``submit`` to the ``hub`` parser. Each command sets ``run``."""
    signer = subparsers.add_parser("signer", help="the keys that may sign submissions")
    actions = signer.add_subparsers(dest="signer_command", required=True)

    add = actions.add_parser("add", help="register a public key for an agency or an employee")
    _owner_options(add, required=True)
    add.add_argument("--jwk", required=True, metavar="FILE",
                     help="a JWK, or a JWK set holding one key: EC P-256, RSA 2048+ or "
                          "Ed25519; its kid (else its RFC 7638 thumbprint) names it")
    add.add_argument("--valid-from", type=_moment, metavar="ISO",
                     help="when it starts to sign (default now; UTC without an offset)")
    add.add_argument("--valid-until", type=_moment, metavar="ISO",
                     help="when it stops (default two years after --valid-from)")
    add.add_argument("--public-only", action="store_true",
                     help="the file holds a private key: register only its public part")
    add.set_defaults(run=_reporting(_add))

    revoke = actions.add_parser("revoke", help="revoke a key (idempotent; the row is kept)")
    revoke.add_argument("kid", metavar="KID")
    revoke.add_argument("--at", type=_moment, metavar="ISO",
                        help="revoke from this moment (default now): the start of a "
                             "compromise, so signatures backdated by a thief are refused")
    revoke.set_defaults(run=_reporting(_revoke))

    listing = actions.add_parser("list", help="list the registered keys")
    _owner_options(listing, required=False)
    listing.set_defaults(run=_reporting(_list))

    keygen = actions.add_parser(
        "keygen", help="generate a private signing key for an agency system (development, "
                       "the demo); prints the public JWK")
    keygen.add_argument("--out", required=True, metavar="FILE",
                        help="where to write the private JWK (mode 0600, never overwritten)")
    keygen.add_argument("--alg", choices=KEYGEN_ALGORITHMS, default="ES256")
    keygen.set_defaults(run=_reporting(_keygen))

    from hub.updates.cli_submit import add_submit_command

    add_submit_command(subparsers)
