"""Running ``hub audit ...`` as an operator does: the installed command, in a subprocess."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from hub.config import PROJECT_ROOT

__all__ = ["Completed", "hub_audit"]

HUB = str(PROJECT_ROOT / ".venv" / "bin" / "hub")


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


async def hub_audit(env: dict[str, str], *arguments: str) -> Completed:
    # Asynchronously, so the test's event loop (and its database connection) stays live.
    process = await asyncio.create_subprocess_exec(
        HUB, "audit", *arguments, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return Completed(process.returncode, stdout.decode(), stderr.decode())
