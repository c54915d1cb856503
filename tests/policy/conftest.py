"""Fixtures for the policy tools' tests: the full schema built once, and a runner for
``hub policy ...`` that captures output and exit code."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from graphql import GraphQLSchema

from hub.policy.cli import main
from hub.policy.workspace import full_schema
from tests.policy.helpers import BASE, Outcome


@pytest.fixture(scope="session")
def schema() -> GraphQLSchema:
    return full_schema()


@pytest.fixture
def hub_policy(schema: GraphQLSchema, capsys: pytest.CaptureFixture[str]
               ) -> Callable[..., Outcome]:
    def run(*args: str | Path) -> Outcome:
        capsys.readouterr()
        code = main(["policy", *map(str, args)], schema=schema)
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run


@pytest.fixture
def base() -> dict[str, Any]:
    return copy.deepcopy(BASE)
