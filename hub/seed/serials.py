"""Unique personal IDs without coordination between chunks.

A number is ``prefix + serial`` where the prefix (province, century/sex, year) follows from the
person. Chunk ``c`` owns the serial *positions* ``[c * block, (c + 1) * block)`` of every prefix
and hands them out in order; an affine bijection of ``[0, 10**6)`` then scatters positions so
the six digits look random. Distinct positions give distinct serials, so numbers are unique
across chunks, tables and processes by construction, with no lookup of what others issued.

Only the first half of each block is handed out (a chunk needs a few dozen numbers per prefix
at most): the second half is never anyone's number. That is where *look-alikes* come from, the
mistyped numbers of duplicate records in agency systems (the last digit off): among the ten
numbers that differ only in their last digit, the ones that may be handed out are paired, in
order, with the ones that never are, so a look-alike is nobody's number and no two numbers
share a look-alike, whichever chunks hand them out.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Final

from hub.seed.timeline import year_of
from resolvers import personal_id

__all__ = ["SerialAllocator", "SerialSpaceExhausted"]

_SERIALS: Final = 1_000_000
# Any multiplier coprime with 10**6 (odd, not a multiple of 5) makes the map a bijection.
_MULTIPLIER: Final = 387_419
_PREFIX_SHIFT: Final = 104_729
_INVERSE: Final = pow(_MULTIPLIER, -1, _SERIALS)


class SerialSpaceExhausted(RuntimeError):
    pass


_PREFIXES: dict[tuple[str, int, str], str] = {}
_MERGER: Final = personal_id.MERGER_DATE.toordinal()


def _prefix(province_code: str, birth_day: int, sex: str) -> str:
    """The first six digits, memoised per (province, year, sex) for births before the merger
    (after it, the same year may need a different code, so those are checked each time)."""
    key = (province_code, year_of(birth_day), sex)
    prefix = _PREFIXES.get(key)
    if prefix is None or birth_day >= _MERGER:
        # make() checks the code is legal for the birth date; the prefix is its first six.
        prefix = personal_id.make(province_code, date.fromordinal(birth_day), sex, 0)[:6]
        if birth_day < _MERGER:
            _PREFIXES[key] = prefix
    return prefix


class SerialAllocator:
    @classmethod
    def for_chunk(cls, seed: int, chunk: int, block: int) -> SerialAllocator:
        """The allocator of ``chunk``; the scattering offset depends on the seed only."""
        offset = random.Random(f"hub-seed/{seed}/serial-offset").randrange(_SERIALS)
        return cls(chunk, block, offset)

    def __init__(self, chunk: int, block: int, offset: int) -> None:
        self._first = chunk * block
        self._block = block
        self._offset = offset
        self._used: dict[str, int] = {}

    def allocate(self, province_code: str, birth_day: int, sex: str) -> str:
        """A fresh number for someone whose birth ``province_code`` registered on ``birth_day``
        (an ordinal)."""
        prefix = _prefix(province_code, birth_day, sex)
        used = self._used.get(prefix, 0)
        if used >= self._block // 2:  # the rest of the block is for look-alikes
            raise SerialSpaceExhausted(f"more than {self._block // 2} people with prefix "
                                       f"{prefix} in one chunk")
        self._used[prefix] = used + 1
        # The prefix shifts the map too, so first serials differ between prefixes.
        serial = (_MULTIPLIER * (self._first + used) + self._offset
                  + int(prefix) * _PREFIX_SHIFT) % _SERIALS
        return f"{prefix}{serial:06d}"

    def _reserved(self, prefix: str, serial: int) -> bool:
        """Is ``prefix + serial`` in the half of a block no allocator hands out?"""
        position = ((serial - self._offset - int(prefix) * _PREFIX_SHIFT) * _INVERSE) % _SERIALS
        return position % self._block >= self._block // 2

    def lookalike(self, pid: str) -> str | None:
        """``pid`` with its last digit changed into a number no allocator (of this seed,
        whatever the chunk) ever hands out, or None when its ten-number run has too few such
        numbers (with blocks of 1,000, as runs of up to a million employees have, never for
        the first twenty numbers of a prefix in a chunk, more than a chunk ever needs).
        The prefix is kept, so it still fits the birth year and sex. The i-th number of the
        run that may be handed out always becomes the run's i-th reserved one: two numbers
        never share a look-alike."""
        prefix, head = pid[:6], pid[6:11]
        run = [int(head) * 10 + digit for digit in range(10)]
        reserved = [serial for serial in run if self._reserved(prefix, serial)]
        handed_out = [serial for serial in run if not self._reserved(prefix, serial)]
        rank = handed_out.index(int(pid[6:]))  # ValueError: not a number allocators hand out
        return f"{prefix}{reserved[rank]:06d}" if rank < len(reserved) else None
