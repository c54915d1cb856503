"""Helpers for the policy tools' tests: a small valid policy to break one thing at a time,
and a writer for policy folders made on the fly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["BASE", "Outcome", "write_policy"]

# A small valid policy: tests copy it and break one thing at a time.
BASE: dict[str, Any] = {
    "client": {"id": "test-client", "name": "Test client", "agency": "000.00.00.G99",
               "attributes": {"province_code": "01"}},
    "purposes": {
        "review": {
            "description": "Reviewing records.",
            "grants": {
                "Query": {"fields": ["civilServants", "agency", "ranks"]},
                "CivilServant": {"fields": ["employeeCode", "fullName", "birthDate", "status",
                                            "agency"]},
                "Agency": {"fields": ["code", "name", "provinceCode"]},
            },
        },
    },
    "tests": [{
        "name": "reads names",
        "purpose": "review",
        "query": "{ civilServants { nodes { fullName } } }",
        "expect": {"visible": ["Query.civilServants", "CivilServantConnection.nodes",
                               "CivilServant.fullName"]},
    }],
}


@dataclass(frozen=True)
class Outcome:
    code: int
    out: str
    err: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()


def write_policy(directory: Path, policy: dict[str, Any] | str, name: str | None = None
                 ) -> Path:
    """One policy file in ``directory``, named after its client unless ``name`` is given."""
    if name is None:
        assert isinstance(policy, dict)
        name = policy["client"]["id"]
    path = directory / f"{name}.yaml"
    text = policy if isinstance(policy, str) else yaml.safe_dump(policy, allow_unicode=True,
                                                                 sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path
