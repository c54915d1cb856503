"""Cheap random draws for the generator's hot loops.

``random.randint`` and ``randrange`` validate their arguments and draw bits through several
Python-level calls (about 0.7 µs each); the generator makes tens of millions of draws, so these
one-multiplication versions cut whole seconds. They are exactly as deterministic (one
``random()`` per draw), only not perfectly uniform at the 2**-53 level, which does not matter
for synthetic data.
"""

from __future__ import annotations

import random

__all__ = ["below", "between"]


def between(rng: random.Random, low: int, high: int) -> int:
    """An integer in [low, high] (``low`` when the range is empty)."""
    if high <= low:
        return low
    return low + int(rng.random() * (high - low + 1))


def below(rng: random.Random, n: int) -> int:
    """An integer in [0, n)."""
    return int(rng.random() * n)

