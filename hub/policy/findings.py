"""One finding of ``hub policy check``, printed as ``LEVEL file: purpose: Type.field: message``.

The engine words its problems as ``file: purpose NAME: Type: message`` and the loader as
``file: place: message``; both are read back into findings so every line of the report has
the same shape and can be grepped by file, purpose or field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["LEVELS", "Finding", "Level", "from_problem"]

Level = Literal["ERROR", "WARNING", "INFO"]
LEVELS: tuple[Level, ...] = ("ERROR", "WARNING", "INFO")

_COMPILED = re.compile(r"^(?P<file>[^:]+): purpose (?P<purpose>[^:]+): (?P<subject>[A-Z]\w*): "
                       r"(?P<message>.*)$", re.DOTALL)
_LOADED = re.compile(r"^(?P<file>[^:]+): (?P<message>.*)$", re.DOTALL)


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


def from_problem(problem: str) -> Finding:
    """An engine or loader problem (a PolicyError line) as an error finding."""
    compiled = _COMPILED.match(problem)
    if compiled is not None:
        return Finding("ERROR", compiled["file"], compiled["purpose"], compiled["subject"],
                       compiled["message"])
    loaded = _LOADED.match(problem)
    if loaded is not None:
        return Finding("ERROR", loaded["file"], message=loaded["message"])
    return Finding("ERROR", "(policies)", message=problem)
