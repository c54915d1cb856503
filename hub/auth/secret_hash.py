"""Client secrets, stored as scrypt hashes: ``scrypt$n$r$p$salt_b64$hash_b64``.

The parameters travel with each hash, so raising the cost later needs no migration: old hashes
keep verifying with their own parameters.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["generate_secret", "hash_secret", "verify_secret"]

# n=2^14, r=8: 16 MiB and some tens of milliseconds per check. Generated secrets carry 256 bits
# of entropy, so the hash guards against a leaked table rather than against guessing.
_N, _R, _P = 2**14, 8, 1
_SALT_BYTES = 16
_HASH_BYTES = 32
# Bounds on parameters read back from the database: a tampered row must not make one check
# allocate gigabytes or run for minutes.
_MAX_MEMORY = 128 * 1024 * 1024
_MAX_P = 4


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length,
                          maxmem=2 * 128 * n * r + 1024 * 1024)


def generate_secret() -> str:
    """A new client secret: 32 random bytes, URL-safe text."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    if not secret:
        raise ValueError("a client secret must not be empty")
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(secret, salt, _N, _R, _P, _HASH_BYTES)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, encoded: str) -> bool:
    """Whether ``secret`` matches the stored hash (False for a malformed hash)."""
    try:
        scheme, n_text, r_text, p_text, salt_text, digest_text = encoded.split("$")
        n, r, p = int(n_text), int(r_text), int(p_text)
        salt, expected = _unb64(salt_text), _unb64(digest_text)
    except ValueError:
        return False
    if (scheme != "scrypt" or n < 2 or n & (n - 1) or r < 1 or 128 * n * r > _MAX_MEMORY
            or not 0 < p <= _MAX_P or not expected):
        return False
    actual = _scrypt(secret, salt, n, r, p, len(expected))
    return hmac.compare_digest(actual, expected)
