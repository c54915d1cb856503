"""What a data-quality measure is: a dimension of one agency's data in one source, as a
numerator over a denominator, with the counts per field or rule behind it.

A measure is ``measured`` (score = numerator / denominator), ``empty`` (nothing to measure: an
agency without employees, a system holding none of them) or ``not_measured`` (the source could
not be read: the reason instead of a score, never a 0 or a 1 that would read as a fact).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

__all__ = ["DIMENSIONS", "MAX_EXAMPLES", "NATIONAL", "NOT_BLANK", "POPULATION", "WHITESPACE",
           "Detail",
           "Dimension", "Measure", "Scope", "Status", "Tally", "authority_of",
           "normalised_name", "present"]

Dimension = Literal["completeness", "validity", "uniqueness", "consistency", "timeliness"]
Status = Literal["measured", "empty", "not_measured"]
Scope = Literal["agency", "authority"]

DIMENSIONS: Final[tuple[Dimension, ...]] = ("completeness", "validity", "uniqueness",
                                             "consistency", "timeliness")
# Source names beside the agency systems' own (config/sources.yaml).
NATIONAL: Final = "national"
POPULATION: Final = "population"
# A few employee codes per failing field or rule, so a reader can look at real cases; never
# more (details must not become a list of people).
MAX_EXAMPLES: Final = 5
# The white space names are collapsed over: ASCII only, so the national database (regular
# expressions under whatever locale the server has) and Python agree to the character.
WHITESPACE: Final = "[ \t\n\r\f\v]+"
_WHITESPACE = re.compile(WHITESPACE)
_BLANKS: Final = " \t\n\r\f\v"
# Text is there when it holds a character outside WHITESPACE (the same test in SQL).
NOT_BLANK: Final = "[^" + _BLANKS + "]"


def normalised_name(name: str) -> str:
    """A name as names are compared: Unicode NFC (a precomposed ễ equals e + two combining
    marks), runs of white space as one space, no space at either end. Case and diacritics
    count: "Nguyen" is not "Nguyễn", and a name in capitals differs from one in title case."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", name)).strip(" ")


def present(value: Any) -> bool:
    """Is a value there: not null, and text not blank (something besides WHITESPACE)."""
    if isinstance(value, str):
        return value.strip(_BLANKS) != ""
    return value is not None


def authority_of(agency_code: str) -> str:
    """The reporting authority an agency answers to: the last segment of its code (G02, H01),
    as migration 0006 derives it."""
    return agency_code.rsplit(".", 1)[-1]


@dataclass(frozen=True, slots=True)
class Detail:
    """One field or rule behind a measure: how many of the checked values passed, or a fact
    (``value``: a time, a number of seconds), a remark (``note``), and a few employee codes of
    the values that failed."""

    item: str
    passed: int | None = None
    checked: int | None = None
    value: str | int | float | None = None
    note: str | None = None
    examples: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"item": self.item, "passed": self.passed, "checked": self.checked,
                "value": self.value, "note": self.note, "examples": list(self.examples)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Detail:
        return cls(item=str(data["item"]), passed=data.get("passed"),
                   checked=data.get("checked"), value=data.get("value"), note=data.get("note"),
                   examples=tuple(data.get("examples") or ()))


@dataclass(frozen=True, slots=True)
class Measure:
    agency_code: str  # an agency's code, or an authority's for a roll-up
    authority: str
    scope: Scope
    source: str
    dimension: Dimension
    status: Status
    numerator: int | None = None
    denominator: int | None = None
    details: tuple[Detail, ...] = ()
    reason: str | None = None

    @property
    def score(self) -> float | None:
        if self.status != "measured" or not self.denominator or self.numerator is None:
            return None
        return self.numerator / self.denominator

    @classmethod
    def of(cls, agency_code: str, source: str, dimension: Dimension, numerator: int,
           denominator: int, details: Iterable[Detail] = (), *,
           scope: Scope = "agency") -> Measure:
        """A measure from counts: empty when there was nothing to count."""
        if not 0 <= numerator <= denominator:
            raise ValueError(f"{dimension} of {agency_code} in {source}: {numerator} of "
                             f"{denominator} is not a share")
        return cls(agency_code, authority_of(agency_code), scope, source, dimension,
                   "measured" if denominator else "empty", numerator, denominator,
                   tuple(details))

    @classmethod
    def failed(cls, agency_code: str, source: str, dimension: Dimension, reason: str, *,
               scope: Scope = "agency") -> Measure:
        return cls(agency_code, authority_of(agency_code), scope, source, dimension,
                   "not_measured", reason=reason)


@dataclass(slots=True)
class Tally:
    """Counts per field or rule while records stream past: checked, passed, and the first
    few employee codes that failed (records arrive in employee-code order, so these are the
    smallest)."""

    items: Sequence[str]
    passed: dict[str, int] = field(init=False)
    checked: dict[str, int] = field(init=False)
    examples: dict[str, list[str]] = field(init=False)

    def __post_init__(self) -> None:
        self.passed = dict.fromkeys(self.items, 0)
        self.checked = dict.fromkeys(self.items, 0)
        self.examples = {item: [] for item in self.items}

    def check(self, item: str, ok: bool, code: str) -> None:
        self.checked[item] += 1
        if ok:
            self.passed[item] += 1
        elif len(examples := self.examples[item]) < MAX_EXAMPLES:
            examples.append(code)

    def totals(self) -> tuple[int, int]:
        return sum(self.passed.values()), sum(self.checked.values())

    def details(self) -> tuple[Detail, ...]:
        return tuple(Detail(item, self.passed[item], self.checked[item],
                            examples=tuple(self.examples[item])) for item in self.items)
