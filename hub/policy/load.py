"""Reading policy files: YAML, validated against the JSON Schema shipped in policies/.

A folder loads as a whole or not at all: one broken file refuses the set, naming the file and
the place in it, so a reload never serves half of a change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from graphql import GraphQLError, parse
from jsonschema import Draft202012Validator, ValidationError

from hub.config import PROJECT_ROOT, policy_dir
from hub.policy.model import (
    AttributeRef,
    ClientLimits,
    ClientPolicy,
    PolicySet,
    PolicyTest,
    Purpose,
    RowCondition,
    TypeGrant,
    WriteRule,
    document_id,
)
from hub.policy.writes import WRITE_KINDS

__all__ = ["POLICY_DIR", "SCHEMA_FILE", "PolicyError", "Problem", "load_policy_dir",
           "load_policy_files", "parse_policy", "policy_files"]

POLICY_DIR = PROJECT_ROOT / "policies"

SCHEMA_FILE = POLICY_DIR / "policy.schema.json"
MAX_FILE_BYTES = 1_000_000


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a policy cannot be used: in which file, for which purpose and type (when the
    engine found it while compiling), and what is wrong."""

    file: str
    message: str
    purpose: str = ""
    subject: str = ""   # a type name, or "" for the file as a whole

    def __str__(self) -> str:
        if self.purpose:
            return f"{self.file}: purpose {self.purpose}: {self.subject}: {self.message}"
        return f"{self.file}: {self.message}"


class PolicyError(Exception):
    """A policy file (or the set) that cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _where(path: Iterable[Any]) -> str:
    parts = [str(p) for p in path]
    return "/".join(parts) if parts else "(top level)"


def _message(error: ValidationError) -> str:
    """The schema's message, said plainly where the schema alone would be cryptic."""
    path = list(error.absolute_path)
    if (error.validator == "const" and len(path) >= 3 and path[-3] == "writes"
            and path[-1] == "cosign"):
        return (f"{path[-2]} is the employee's own declaration: it needs the employee's "
                "co-signature, which a policy cannot waive (remove `cosign: none`)")
    if error.validator == "enum" and error.validator_value == list(WRITE_KINDS):
        return (f"{error.instance!r} is not a change kind; the kinds: "
                f"{', '.join(WRITE_KINDS)}")
    return error.message


def _value(raw: Any) -> Any:
    if isinstance(raw, dict):
        return AttributeRef(raw["attribute"])
    if isinstance(raw, list):
        return tuple(raw)
    return raw


def _rows(raw: list[dict[str, Any]]) -> tuple[RowCondition, ...]:
    rows = []
    for condition in raw:
        if "equals" in condition:
            rows.append(RowCondition(condition["field"], "equals", _value(condition["equals"])))
        else:
            rows.append(RowCondition(condition["field"], "in", _value(condition["in"])))
    return tuple(rows)


def _grant(raw: dict[str, Any]) -> TypeGrant:
    return TypeGrant(fields=frozenset(raw["fields"]), masks=dict(raw.get("masks", {})),
                     legal_basis=dict(raw.get("legal_basis", {})),
                     rows=_rows(raw.get("rows", [])))


_COSIGN = {"employee": True, "none": False}


def _write(raw: dict[str, Any]) -> WriteRule:
    cosign = raw.get("cosign")
    return WriteRule(rows=_rows(raw.get("rows", [])),
                     cosign=None if cosign is None else _COSIGN[cosign],
                     legal_basis=raw["legal_basis"])


def _client(raw: dict[str, Any], source: Path) -> ClientPolicy:
    client = raw["client"]
    purposes = {
        name: Purpose(name, body["description"],
                      {type_name: _grant(g) for type_name, g in body["grants"].items()},
                      {kind: _write(w) for kind, w in body.get("writes", {}).items()})
        for name, body in raw["purposes"].items()}
    tests = tuple(
        PolicyTest(name=t["name"], purpose=t["purpose"], query=t.get("query"),
                   expect=t["expect"],
                   variables=t.get("variables"), operation=t.get("operation"))
        for t in raw.get("tests", []))
    attributes = {k: tuple(v) if isinstance(v, list) else v
                  for k, v in client.get("attributes", {}).items()}
    limits = raw.get("limits")
    return ClientPolicy(client_id=client["id"], name=client["name"], agency=client["agency"],
                        attributes=attributes, purposes=purposes, tests=tests, source=source,
                        limits=None if limits is None else _limits(limits))


def _limits(raw: dict[str, Any]) -> ClientLimits:
    rate = raw.get("requests_per_minute")
    return ClientLimits(requests_per_minute=rate,
                        burst=None if rate is None else raw.get("burst", rate // 6 or 1),
                        max_cost=raw.get("cost"))


def parse_policy(text: str, source: Path) -> ClientPolicy:
    """One policy file's text, validated; PolicyError names every problem found."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise PolicyError([Problem(source.name, f"not valid YAML{where}")]) from None
    errors = sorted(_validator().iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        raise PolicyError([Problem(source.name, f"{_where(e.absolute_path)}: {_message(e)}")
                           for e in errors[:20]])
    assert isinstance(raw, dict)
    policy = _client(raw, source)
    documents = raw.get("documents")
    if documents is None:
        return policy
    found: dict[str, str] = {}
    problems: list[Problem] = []
    for index, text in enumerate(documents["operations"]):
        try:
            parse(text)
        except GraphQLError as error:
            problems.append(Problem(source.name, f"documents.operations[{index}]: not a GraphQL "
                                                 f"document ({error.message})"))
            continue
        found.setdefault(document_id(text), text.strip())
    if problems:
        raise PolicyError(problems)
    return replace(policy, documents=found,
                   documents_required=bool(documents.get("required", False)))


def load_policy_files(files: Iterable[Path]) -> PolicySet:
    problems: list[Problem] = []
    clients: dict[str, ClientPolicy] = {}
    digest = hashlib.sha256()
    for path in sorted(files):
        try:
            data = path.read_bytes()
        except OSError as error:
            problems.append(Problem(path.name, f"cannot be read ({error.strerror})"))
            continue
        if len(data) > MAX_FILE_BYTES:
            problems.append(Problem(path.name, f"larger than {MAX_FILE_BYTES} bytes"))
            continue
        digest.update(path.name.encode() + b"\0" + data + b"\0")
        try:
            policy = parse_policy(data.decode("utf-8"), path)
        except UnicodeDecodeError:
            problems.append(Problem(path.name, "not UTF-8 text"))
            continue
        except PolicyError as error:
            problems.extend(error.problems)
            continue
        if policy.client_id in clients:
            earlier = clients[policy.client_id].source.name
            problems.append(Problem(path.name, f"client {policy.client_id} already has a "
                                               f"policy in {earlier}"))
            continue
        if path.stem != policy.client_id:
            problems.append(Problem(path.name, f"the file of client {policy.client_id} must be "
                                               f"named {policy.client_id}.yaml"))
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
        raise PolicyError([Problem(str(directory), "no such policy folder")])
    return load_policy_files(policy_files(directory))
