"""One finding of ``hub policy check``, printed as ``LEVEL file: purpose: Type.field: message``.

Load and compile problems become error findings, beside the lint's own warnings, so every
line of the report has the same shape and can be grepped by file, purpose or field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hub.policy.load import Problem

__all__ = ["LEVELS", "Finding", "Level", "from_problem"]

Level = Literal["ERROR", "WARNING", "INFO"]
LEVELS: tuple[Level, ...] = ("ERROR", "WARNING", "INFO")

@dataclass(frozen=True, slots=True)
class Finding:
    level: Level
    file: str
    purpose: str = ""
    subject: str = ""   # "Type.field", "Type", or a test's name
    message: str = ""

    def render(self) -> str:
        where = ": ".join(part for part in (self.file, self.purpose, self.subject) if part)
        return f"{self.level} {where}: {self.message}"


def from_problem(problem: Problem) -> Finding:
    """An engine or loader problem (why a PolicyError was raised) as an error finding."""
    return Finding("ERROR", problem.file, problem.purpose, problem.subject, problem.message)
