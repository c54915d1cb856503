"""The policy set in force, swapped atomically when the files change.

A reload reads and compiles the whole folder first; only a set that compiles replaces the one
serving. A broken change is refused with a log line naming each problem, and the previous
policy keeps serving. Reloads come from a file watch and from SIGHUP.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from graphql import GraphQLSchema

from hub.policy.compile import PolicyEngine
from hub.policy.load import PolicyError, load_policy_dir

__all__ = ["PolicyStore"]

log = logging.getLogger(__name__)


class PolicyStore:
    def __init__(self, directory: Path, schema: GraphQLSchema, secret: bytes) -> None:
        self.directory = directory
        self._schema = schema
        self._secret = secret
        # The first load must succeed: a hub with no valid policy serves nothing.
        self._engine = PolicyEngine(load_policy_dir(directory), schema, secret)
        self.reloads = 0
        self.refused = 0
        self.last_change_refused = False

    @property
    def engine(self) -> PolicyEngine:
        return self._engine

    def reload(self) -> bool:
        """Load the folder again; True if a new policy set now serves."""
        try:
            engine = PolicyEngine(load_policy_dir(self.directory), self._schema, self._secret)
        except PolicyError as error:
            self.refused += 1
            self.last_change_refused = True
            log.error("policy reload refused, the previous policies (%s) keep serving: %s",
                      self._engine.digest, str(error))
            return False
        self.last_change_refused = False
        if engine.digest == self._engine.digest:
            return False
        self._engine = engine  # one reference swap: a request sees the old set or the new one
        self.reloads += 1
        log.info("policies reloaded: %s (%d clients)", engine.digest,
                 len(engine.policies.clients))
        return True

    async def watch(self, stop: asyncio.Event) -> None:
        """Reload whenever a file in the folder changes, until ``stop`` is set."""
        from watchfiles import awatch

        async for _ in awatch(self.directory, stop_event=stop, debounce=200,
                              recursive=False):
            self.reload()

    def status(self) -> dict[str, object]:
        """For /readyz (unauthenticated): which policy set serves and whether the last change
        was refused — not why: the reasons name clients and fields, and go to the log."""
        return {"digest": self._engine.digest, "reloads": self.reloads,
                "refused": self.refused, "lastChangeRefused": self.last_change_refused}
