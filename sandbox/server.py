"""Running the simulated services under uvicorn: one or several in one process and event loop.

Signals are handled here, once for every server: uvicorn's own per-server handlers, when
several servers run together, would chain into one another and finally re-raise the signal on
a process whose handlers are restored to the default, killing it instead of exiting cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import import_module

import uvicorn
from starlette.applications import Starlette

from sandbox import System

__all__ = ["ServiceSpec", "create_app", "run"]

DEFAULT_PORTS: dict[System, int] = {"population": 8101, "agency_rest": 8102,
                                    "agency_graphql": 8103}
_GRACEFUL_SHUTDOWN_SECONDS = 5


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    system: System
    dsn: str
    port: int  # 0: any free port (the one chosen is printed)


def create_app(system: System, dsn: str) -> Starlette:
    """The app factory of one system (imported on demand: each pulls different libraries)."""
    factory: Callable[[str], Starlette] = import_module(f"sandbox.{system}.app").create_app
    return factory(dsn)


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, system: System) -> None:
        super().__init__(config)
        self.system = system

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # see the module docstring: run() handles signals for all servers

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            # The one line a supervisor (or a test fixture) waits for.
            print(f"{self.system} listening on http://{host}:{port}", flush=True)


async def _serve_all(specs: Sequence[ServiceSpec], *, host: str, log_level: str,
                     access_log: bool) -> int:
    servers = [
        _Server(uvicorn.Config(create_app(spec.system, spec.dsn), host=host, port=spec.port,
                               lifespan="on", log_level=log_level, access_log=access_log,
                               timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_SECONDS),
                spec.system)
        for spec in specs
    ]

    def stop() -> None:
        for server in servers:
            # A second signal while shutting down skips waiting for open connections.
            server.force_exit = server.should_exit
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    failed: list[System] = []

    async def serve(server: _Server) -> None:
        try:
            await server.serve()
        except SystemExit:  # uvicorn's way of reporting a failed startup (already logged)
            failed.append(server.system)
            stop()

    try:
        await asyncio.gather(*(serve(server) for server in servers))
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return 1 if failed else 0


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(specs: Sequence[ServiceSpec], *, host: str = "127.0.0.1", log_level: str = "warning",
        access_log: bool = False) -> int:
    """Serve ``specs`` until SIGINT/SIGTERM; the process exit status (0 after a clean stop)."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        return runner.run(_serve_all(specs, host=host, log_level=log_level,
                                     access_log=access_log))
