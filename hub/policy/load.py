"""Reading policy files: YAML, validated against the JSON Schema shipped in policies/.

A folder loads as a whole or not at all: one broken file refuses the set, naming the file and
the place in it, so a reload never serves half of a change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from hub.config import PROJECT_ROOT, policy_dir
from hub.policy.model import (
    AttributeRef,
    ClientPolicy,
    PolicySet,
    PolicyTest,
    Purpose,
    RowCondition,
    TypeGrant,
)

__all__ = ["POLICY_DIR", "SCHEMA_FILE", "PolicyError", "load_policy_dir", "load_policy_files",
           "parse_policy", "policy_dir", "policy_files"]

POLICY_DIR = PROJECT_ROOT / "policies"

SCHEMA_FILE = POLICY_DIR / "policy.schema.json"
MAX_FILE_BYTES = 1_000_000


class PolicyError(Exception):
    """A policy file (or the set) that cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _where(path: Iterable[Any]) -> str:
    parts = [str(p) for p in path]
    return "/".join(parts) if parts else "(top level)"


def _value(raw: Any) -> Any:
    if isinstance(raw, dict):
        return AttributeRef(raw["attribute"])
    if isinstance(raw, list):
        return tuple(raw)
    return raw


def _grant(raw: dict[str, Any]) -> TypeGrant:
    rows = []
    for condition in raw.get("rows", []):
        if "equals" in condition:
            rows.append(RowCondition(condition["field"], "equals", _value(condition["equals"])))
        else:
            rows.append(RowCondition(condition["field"], "in", _value(condition["in"])))
    return TypeGrant(fields=frozenset(raw["fields"]), masks=dict(raw.get("masks", {})),
                     legal_basis=dict(raw.get("legal_basis", {})), rows=tuple(rows))


def _client(raw: dict[str, Any], source: Path) -> ClientPolicy:
    client = raw["client"]
    purposes = {
        name: Purpose(name, body["description"],
                      {type_name: _grant(g) for type_name, g in body["grants"].items()})
        for name, body in raw["purposes"].items()}
    tests = tuple(
        PolicyTest(name=t["name"], purpose=t["purpose"], query=t["query"], expect=t["expect"],
                   variables=t.get("variables"), operation=t.get("operation"))
        for t in raw.get("tests", []))
    attributes = {k: tuple(v) if isinstance(v, list) else v
                  for k, v in client.get("attributes", {}).items()}
    return ClientPolicy(client_id=client["id"], name=client["name"], agency=client["agency"],
                        attributes=attributes, purposes=purposes, tests=tests, source=source)


def parse_policy(text: str, source: Path) -> ClientPolicy:
    """One policy file's text, validated; PolicyError names every problem found."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise PolicyError([f"{source.name}: not valid YAML{where}"]) from None
    errors = sorted(_validator().iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        raise PolicyError([f"{source.name}: {_where(e.absolute_path)}: {e.message}"
                           for e in errors[:20]])
    assert isinstance(raw, dict)
    return _client(raw, source)


def load_policy_files(files: Iterable[Path]) -> PolicySet:
    problems: list[str] = []
    clients: dict[str, ClientPolicy] = {}
    digest = hashlib.sha256()
    for path in sorted(files):
        try:
            data = path.read_bytes()
        except OSError as error:
            problems.append(f"{path.name}: cannot be read ({error.strerror})")
            continue
        if len(data) > MAX_FILE_BYTES:
            problems.append(f"{path.name}: larger than {MAX_FILE_BYTES} bytes")
            continue
        digest.update(path.name.encode() + b"\0" + data + b"\0")
        try:
            policy = parse_policy(data.decode("utf-8"), path)
        except UnicodeDecodeError:
            problems.append(f"{path.name}: not UTF-8 text")
            continue
        except PolicyError as error:
            problems.extend(error.problems)
            continue
        if policy.client_id in clients:
            problems.append(f"{path.name}: client {policy.client_id} already has a policy in "
                            f"{clients[policy.client_id].source.name}")
            continue
        if path.stem != policy.client_id:
            problems.append(f"{path.name}: the file of client {policy.client_id} must be named "
                            f"{policy.client_id}.yaml")
            continue
        clients[policy.client_id] = policy
    if problems:
        raise PolicyError(problems)
    return PolicySet(clients=clients, digest=digest.hexdigest()[:16])


def policy_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.yaml") if p.is_file())


def load_policy_dir(directory: Path | None = None) -> PolicySet:
    directory = directory or policy_dir()
    if not directory.is_dir():
        raise PolicyError([f"{directory}: no such policy folder"])
    return load_policy_files(policy_files(directory))
