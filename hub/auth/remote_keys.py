"""The published signing keys (JWKS) of a trusted external issuer, fetched and cached.

The set is fetched on first need and again whenever a token names a key the cache does not hold
(the issuer rotated its keys), but at most once per ``refresh_seconds``: a stream of tokens with
made-up ``kid``s must not turn the hub into a load generator against the issuer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet

__all__ = ["KeySetUnavailable", "RemoteKeySet"]

log = logging.getLogger(__name__)

_MAX_JWKS_BYTES = 256 * 1024


class KeySetUnavailable(Exception):
    """The issuer's key set could not be fetched or read."""


class RemoteKeySet:
    def __init__(self, url: str, http_client: httpx.AsyncClient, *, refresh_seconds: float,
                 on_change: Callable[[], None] = lambda: None,
                 timeout: float = 5.0) -> None:
        self.url = url
        self._http = http_client
        self._refresh_seconds = refresh_seconds
        self._on_change = on_change
        self._timeout = timeout
        self._keys: dict[str, Key] = {}
        self._last_fetch = float("-inf")
        self._lock = asyncio.Lock()
        #: How many fetches were attempted (for tests and diagnostics).
        self.fetches = 0

    def _may_fetch(self) -> bool:
        return time.monotonic() - self._last_fetch >= self._refresh_seconds

    async def find(self, kid: str) -> Key | None:
        """The key with this ``kid``: from the cache, else from a fresh fetch if one is allowed
        now. Raises KeySetUnavailable when a fetch was needed and failed."""
        key = self._keys.get(kid)
        if key is not None or not self._may_fetch():
            return key
        async with self._lock:
            # Another request may have fetched while this one waited for the lock.
            key = self._keys.get(kid)
            if key is not None or not self._may_fetch():
                return key
            self._last_fetch = time.monotonic()
            self.fetches += 1
            keys = await self._fetch()
            changed = ({k: v.thumbprint() for k, v in keys.items()}
                       != {k: v.thumbprint() for k, v in self._keys.items()})
            self._keys = keys
            if changed:
                self._on_change()
            return keys.get(kid)

    async def _fetch(self) -> dict[str, Key]:
        try:
            response = await self._http.get(self.url, timeout=self._timeout)
        except httpx.HTTPError as error:
            log.warning("cannot fetch JWKS %s: %s", self.url, error)
            raise KeySetUnavailable(f"cannot fetch {self.url}") from error
        if response.status_code != 200:
            log.warning("JWKS %s answered HTTP %d", self.url, response.status_code)
            raise KeySetUnavailable(f"{self.url} answered HTTP {response.status_code}")
        if len(response.content) > _MAX_JWKS_BYTES:
            raise KeySetUnavailable(f"{self.url} is larger than {_MAX_JWKS_BYTES} bytes")
        try:
            data = response.json()
            if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
                raise ValueError('no "keys" list')
            # Symmetric keys have no place in a published key set; leave them out rather than
            # ever offering one for verification.
            data = {"keys": [k for k in data["keys"]
                             if isinstance(k, dict) and k.get("kty") != "oct"]}
            key_set = KeySet.import_key_set(data)  # type: ignore[arg-type]
        except (ValueError, TypeError, KeyError, JoseError) as error:
            log.warning("JWKS %s cannot be read: %s", self.url, error)
            raise KeySetUnavailable(f"{self.url} is not a usable JWK set") from error
        keys: dict[str, Key] = {}
        for key in key_set.keys:
            if key.is_private:
                # A published private key is compromised: never trust it.
                log.warning("JWKS %s publishes private key %s; ignored", self.url, key.kid)
            elif key.kid is not None:
                keys[key.kid] = key
        return keys
