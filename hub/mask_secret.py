"""The key behind the `hash` mask: the same for every hub process, never in a policy file.

Kept in a file created on first use (mode 0600), like the signing keys, so that several
processes and restarts give the same pseudonyms; HUB_MASK_SECRET overrides it (hex), for
deployments that hand secrets in through the environment.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

__all__ = ["load_mask_secret"]


def load_mask_secret(path: Path) -> bytes:
    given = os.environ.get("HUB_MASK_SECRET")
    if given:
        try:
            secret = bytes.fromhex(given)
        except ValueError:
            raise RuntimeError("HUB_MASK_SECRET must be hex") from None
        if len(secret) < 16:
            raise RuntimeError("HUB_MASK_SECRET must hold at least 16 bytes (32 hex digits)")
        return secret
    existing = _read(path)
    if existing is not None:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(32)
    # Created exclusively: two processes starting at once keep whichever wrote first.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process created it a moment ago: wait for its write
            existing = _read(path)
            if existing is not None:
                return existing
            time.sleep(0.02)
        raise RuntimeError(f"{path} holds no mask secret") from None
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(secret.hex())
    return secret


def _read(path: Path) -> bytes | None:
    try:
        secret = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        return None
    except ValueError:
        raise RuntimeError(f"{path} does not hold a hex mask secret") from None
    return secret if len(secret) >= 16 else None
