"""The hub's token-signing keys: a JWK set in a file, created on first use.

Rotation is appending: the last key of the file signs, every key of the file verifies and is
published, so tokens signed before a rotation stay valid until they expire. Retire an old key by
deleting it from the file once its last token has expired.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey, Key, KeySet, RSAKey, import_key

from hub.auth.settings import SIGNING_ALGORITHMS

__all__ = ["SigningKeys", "generate_signing_key"]

log = logging.getLogger(__name__)


def generate_signing_key(algorithm: str) -> Key:
    """A new private key for ``algorithm``, its ``kid`` the RFC 7638 thumbprint."""
    key: Key
    if algorithm == "ES256":
        key = ECKey.generate_key("P-256", private=True)
    elif algorithm == "RS256":
        key = RSAKey.generate_key(2048, private=True)
    else:
        raise ValueError(f"unsupported signing algorithm {algorithm!r}")
    return _with_parameters(key, algorithm)


def _with_parameters(key: Key, algorithm: str) -> Key:
    # The thumbprint covers the key material only (RFC 7638 §3.2), so it is the same whether
    # computed before or after "alg" and "use" are added.
    data = {**key.as_dict(private=True), "alg": algorithm, "use": "sig",
            "kid": key.thumbprint()}
    return import_key(data)


def _algorithm_of(key: Key) -> str:
    if key.alg:
        return key.alg
    if key.key_type == "EC" and key.get("crv") == "P-256":
        return "ES256"
    if key.key_type == "RSA":
        return "RS256"
    raise ValueError(f"key {key.kid} has no usable signing algorithm")


@dataclass(frozen=True, slots=True)
class _State:
    """One consistent reading of the key file, swapped as a whole on reload."""

    by_kid: dict[str, tuple[Key, str]]
    signing_key: Key
    signing_algorithm: str
    public_jwks: dict[str, Any]
    mtime_ns: int


def _read(path: Path) -> _State:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        key_set = KeySet.import_key_set(raw)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise RuntimeError(f"cannot read the signing keys in {path}: {error}") from error
    by_kid: dict[str, tuple[Key, str]] = {}
    public = []
    for key in key_set.keys:
        if not key.is_private:
            raise RuntimeError(f"key {key.kid} in {path} has no private part")
        algorithm = _algorithm_of(key)
        if algorithm not in SIGNING_ALGORITHMS:
            raise RuntimeError(f"key {key.kid} in {path} is for {algorithm}; "
                               f"the hub signs with {', '.join(SIGNING_ALGORITHMS)}")
        kid = key.kid or key.thumbprint()
        if kid in by_kid:
            raise RuntimeError(f"two keys in {path} share the kid {kid}")
        by_kid[kid] = (key, algorithm)
        public.append({**key.as_dict(private=False), "kid": kid, "use": "sig",
                       "alg": algorithm})
    last = key_set.keys[-1]
    return _State(by_kid=by_kid, signing_key=last, signing_algorithm=_algorithm_of(last),
                  public_jwks={"keys": public}, mtime_ns=path.stat().st_mtime_ns)


def _write_new(path: Path, keys: list[Key], *, replace: bool) -> bool:
    """Write the key set with mode 0600 through a temporary file, so no reader ever sees half a
    file. Without ``replace``, a file that appeared meanwhile (another process starting at the
    same moment) wins and False is returned."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    body = json.dumps({"keys": [k.as_dict(private=True) for k in keys]}, indent=2) + "\n"
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".signing-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp makes it 0600
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
            return True
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


class SigningKeys:
    """The keys of the signing-key file. Reads are plain attribute reads of an immutable state,
    safe from the token endpoint's threads."""

    def __init__(self, path: Path, state: _State) -> None:
        self.path = path
        self._state = state
        self._lock = threading.Lock()
        #: Bumped whenever the keys are re-read: lets a verifier drop what it verified with
        #: keys that may since have been retired.
        self.generation = 0

    @classmethod
    def load(cls, path: Path) -> SigningKeys:
        """Load an existing key file, whatever its signing algorithm."""
        return cls(path, _read(path))

    @classmethod
    def load_or_create(cls, path: Path, algorithm: str) -> SigningKeys:
        """Load the key file; create it with one new key for ``algorithm`` if it is missing.
        The configured algorithm must be the signing (last) key's: a mismatch is a
        configuration error that ``rotate`` resolves."""
        if not path.exists() and _write_new(path, [generate_signing_key(algorithm)],
                                            replace=False):
            log.info("created signing key file %s (%s)", path, algorithm)
        keys = cls.load(path)
        if keys.algorithm != algorithm:
            raise RuntimeError(
                f"the signing key in {path} is for {keys.algorithm} but HUB_SIGNING_ALG is "
                f"{algorithm}: run `hub keys rotate` to add a {algorithm} key")
        return keys

    @property
    def signing_key(self) -> Key:
        return self._state.signing_key

    @property
    def algorithm(self) -> str:
        return self._state.signing_algorithm

    @property
    def kid(self) -> str:
        kid = self._state.signing_key.kid
        assert kid is not None
        return kid

    def signer(self) -> tuple[Key, str, str]:
        """The signing key, its algorithm and kid, read from one state (a reload in between
        cannot pair one key with another's kid)."""
        state = self._state
        kid = state.signing_key.kid
        assert kid is not None
        return state.signing_key, state.signing_algorithm, kid

    def find(self, kid: str) -> tuple[Key, str] | None:
        """The verification key with this ``kid`` and its algorithm."""
        return self._state.by_kid.get(kid)

    def public_jwks(self) -> dict[str, Any]:
        """Public parts only, each with ``kid``, ``use: sig`` and ``alg``."""
        return self._state.public_jwks

    def reload_if_changed(self) -> bool:
        """Re-read the file if it changed on disk (a rotation by another process)."""
        with self._lock:
            try:
                mtime_ns = self.path.stat().st_mtime_ns
            except OSError:
                return False
            if mtime_ns == self._state.mtime_ns:
                return False
            self._state = _read(self.path)
            self.generation += 1
            log.info("reloaded signing keys from %s", self.path)
            return True

    def rotate(self, algorithm: str) -> str:
        """Append a new key for ``algorithm``; it signs from now on. Returns its kid."""
        with self._lock:
            current = _read(self.path)
            new = generate_signing_key(algorithm)
            _write_new(self.path, [k for k, _ in current.by_kid.values()] + [new], replace=True)
            self._state = _read(self.path)
            self.generation += 1
        kid = new.kid
        assert kid is not None
        return kid
