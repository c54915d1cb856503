"""Reading the ``SANDBOX_*`` environment variables.

A bad value stops the service at startup with the variable's name in the message, rather than
surfacing later as a confusing answer to some request.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["SettingsError", "env_bool", "env_float", "env_int", "env_list", "env_str"]


class SettingsError(ValueError):
    """An environment variable with an unusable value."""

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(environ: Mapping[str, str], name: str, default: str) -> str:
    value = environ.get(name, "").strip()
    return value or default


def env_list(environ: Mapping[str, str], name: str, default: str) -> tuple[str, ...]:
    """Comma-separated values; empty items are dropped."""
    items = tuple(p.strip() for p in env_str(environ, name, default).split(",") if p.strip())
    if not items:
        raise SettingsError(f"{name} must list at least one value")
    return items


def env_int(environ: Mapping[str, str], name: str, default: int, *,
            minimum: int, maximum: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if not minimum <= value <= maximum:
        raise SettingsError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def env_float(environ: Mapping[str, str], name: str, default: float, *,
              minimum: float, maximum: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not minimum <= value <= maximum:  # also rejects nan
        raise SettingsError(f"{name} must be between {minimum} and {maximum}, got {raw}")
    return value


def env_bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")
