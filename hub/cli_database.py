"""One command-line action on the national database, as the connecting (owner) role.

The ``hub`` commands that read or write the database directly (``audit``, ``signer``) share
how they connect and how they fail: one line naming what to do, never the URL (it may hold a
password), never a traceback.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import asyncpg

__all__ = ["on_national_database"]

T = TypeVar("T")


def on_national_database(action: Callable[[asyncpg.Connection], Awaitable[T]], *,
                         error: type[Exception], missing: str) -> T:
    """Run ``action`` on a connection to the national database; failures to connect, a
    missing table (``missing`` names what) and a refused privilege become ``error``."""
    import asyncpg

    from hub.environment import resolve_databases

    async def run() -> T:
        url = resolve_databases().national
        try:
            conn = await asyncpg.connect(url, timeout=15)
        except (OSError, TimeoutError, asyncpg.PostgresError) as failure:
            raise error(f"cannot connect to the national database: {failure}") from None
        try:
            return await action(conn)
        except asyncpg.UndefinedTableError:
            raise error(f"the database has no {missing}: run `hub migrate`") from None
        except asyncpg.InsufficientPrivilegeError:
            raise error("this is written as the database owner: set HUB_DATABASE_URL to the "
                        "owner's connection") from None
        finally:
            await conn.close()

    return asyncio.run(run())
