"""ASGI entry point for uvicorn (``hub.asgi:app_from_env``, a factory)."""

from __future__ import annotations

from starlette.applications import Starlette

from hub.app import create_app
from hub.config import Settings

__all__ = ["app_from_env"]


def app_from_env() -> Starlette:
    return create_app(Settings.from_env())
