"""JSON read strictly, for signed payloads and bulk files alike.

A member named twice (two parsers could read two different values, so a signed meaning would
be ambiguous), NaN, infinities and numbers out of range are refused with ``ValueError``.
"""

from __future__ import annotations

import json
import math
from typing import Any, NoReturn

__all__ = ["strict_loads"]


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("a member name appears twice")
    return result


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number is out of range")
    return value


def _not_a_number(text: str) -> NoReturn:
    raise ValueError(f"{text} is not JSON")


def strict_loads(text: str) -> Any:
    """``json.loads`` without duplicate members or non-finite numbers; raises ValueError
    (or RecursionError for absurd nesting)."""
    return json.loads(text, object_pairs_hook=_no_duplicates, parse_float=_finite,
                      parse_constant=_not_a_number)
