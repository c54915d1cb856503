"""Vietnamese personal names: family, middle and given names with realistic frequencies.

Family names follow the national distribution (Nguyễn about 38%, Trần 11%, Lê 9.5% ...);
people of ethnic minorities mostly carry their community's own family names (Nông and Lục among
the Tày, Lò and Cầm among the Thái, Giàng and Thào among the H'Mông, Thạch and Sơn among the
Khmer ...). Middle names depend on sex and on the generation: "Văn" and "Thị" were the usual
middle names of the older generations and grow rarer among the young.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from typing import Final, Generic, TypeVar

__all__ = ["Urn", "family_urn", "given_urn", "middle_urn", "misspell"]

T = TypeVar("T")


class Urn(Generic[T]):
    """Weighted draws at the cost of one ``random()`` and one index.

    Each value is repeated in proportion to its weight (at a fixed resolution), so a draw
    needs no bisection: ``random.choices`` costs several times more per single draw.
    """

    __slots__ = ("items", "size")

    def __init__(self, weighted: Sequence[tuple[T, float]], resolution: int = 2_000) -> None:
        total = sum(w for _, w in weighted)
        items: list[T] = []
        for value, weight in weighted:
            if weight > 0:
                items.extend([value] * max(1, round(weight / total * resolution)))
        self.items: tuple[T, ...] = tuple(items)
        self.size = len(items)

    def draw(self, rng: random.Random) -> T:
        return self.items[int(rng.random() * self.size)]


_KINH_FAMILY: Final = (
    ("Nguyễn", 38.4), ("Trần", 11.0), ("Lê", 9.5), ("Phạm", 7.1), ("Phan", 4.5),
    ("Hoàng", 3.4), ("Vũ", 2.2), ("Đặng", 2.1), ("Bùi", 2.0), ("Huỳnh", 1.7), ("Võ", 1.7),
    ("Đỗ", 1.4), ("Hồ", 1.3), ("Ngô", 1.3), ("Dương", 1.0), ("Đào", 0.6), ("Đoàn", 0.6),
    ("Trương", 0.6), ("Đinh", 0.6), ("Lý", 0.5), ("Trịnh", 0.5), ("Hà", 0.5), ("Lâm", 0.4),
    ("Mai", 0.4), ("Cao", 0.4), ("Lưu", 0.3), ("Lương", 0.3), ("Tạ", 0.2), ("Chu", 0.2),
    ("Phùng", 0.2), ("Tô", 0.2), ("Thái", 0.2), ("Triệu", 0.2), ("Châu", 0.2), ("Kiều", 0.1),
    ("Quách", 0.1), ("Tăng", 0.1), ("La", 0.1), ("Nghiêm", 0.1), ("Hứa", 0.1), ("Lại", 0.1),
    ("Tống", 0.1), ("Vương", 0.1), ("Từ", 0.1), ("Khuất", 0.05), ("Giáp", 0.05),
    ("Mạc", 0.05), ("Doãn", 0.05),
)

# Family names of the larger minorities; the rest of each community shares Kinh names.
_MINORITY_FAMILY: Final[dict[str, tuple[tuple[str, float], ...]]] = {
    "Tày": (("Nông", 5), ("Hoàng", 5), ("Lục", 3), ("Ma", 2), ("Lương", 2), ("Hà", 2),
            ("Bế", 2), ("Đàm", 1), ("Triệu", 1), ("Nguyễn", 3)),
    "Nùng": (("Nông", 4), ("Hoàng", 4), ("Lăng", 2), ("Vi", 2), ("Lục", 2), ("Chu", 1),
             ("Mông", 1), ("Lương", 1)),
    "Thái": (("Lò", 5), ("Cầm", 3), ("Lường", 3), ("Quàng", 2), ("Vi", 2), ("Hà", 2),
             ("Tòng", 1), ("Lù", 1)),
    "Mường": (("Bùi", 6), ("Đinh", 4), ("Quách", 2), ("Hà", 2), ("Xa", 1)),
    "H'Mông": (("Giàng", 4), ("Thào", 4), ("Vàng", 3), ("Sùng", 3), ("Lý", 2), ("Mùa", 2),
               ("Hầu", 1), ("Lầu", 1)),
    "Dao": (("Triệu", 5), ("Bàn", 4), ("Đặng", 3), ("Lý", 2), ("Phùng", 1)),
    "Khmer": (("Thạch", 5), ("Sơn", 4), ("Danh", 3), ("Kim", 2), ("Lâm", 1), ("Châu", 1)),
    "Hoa": (("Lâm", 3), ("Trương", 3), ("Quách", 2), ("Lý", 2), ("Hứa", 2), ("Lưu", 2),
            ("Mã", 1), ("Tăng", 1)),
    "Gia Rai": (("Ksor", 4), ("Siu", 3), ("Rơ Mah", 3), ("Nay", 2), ("Kpă", 2),
                ("Rơ Châm", 1)),
    "Ê Đê": (("Niê", 4), ("Êban", 3), ("Mlô", 2), ("Byă", 2), ("Knul", 1), ("Ayun", 1)),
    "Chăm": (("Đàng", 3), ("Thành", 2), ("Lưu", 2), ("Quảng", 2), ("Thiên", 1)),
}

_MALE_MIDDLE: Final = (
    ("Hữu", 6), ("Đức", 7), ("Minh", 8), ("Quang", 6), ("Công", 5), ("Thành", 4),
    ("Xuân", 4), ("Ngọc", 3), ("Mạnh", 3), ("Trung", 3), ("Anh", 3), ("Hoàng", 3), ("Duy", 3),
    ("Tiến", 3), ("Thanh", 4), ("Quốc", 4), ("Gia", 2), ("Bảo", 2), ("Đình", 4), ("Trọng", 3),
    ("Tuấn", 2), ("Việt", 2), ("Hải", 2), ("Kim", 1), ("Chí", 2),
)
_FEMALE_MIDDLE: Final = (
    ("Ngọc", 8), ("Thu", 6), ("Thanh", 7), ("Minh", 4), ("Hồng", 5), ("Kim", 4),
    ("Phương", 4), ("Thùy", 4), ("Mai", 3), ("Bích", 3), ("Thúy", 3), ("Thảo", 2), ("Lan", 2),
    ("Diệu", 2), ("Khánh", 2), ("Quỳnh", 2), ("Hoài", 2), ("Hải", 2), ("Bảo", 1), ("Hà", 2),
    ("Tuyết", 1), ("Vân", 1), ("Cẩm", 1), ("Mỹ", 2),
)
# Share of "Văn" (men) and "Thị" (women) by birth-year band: the custom fades with time.
_TRADITIONAL_MIDDLE_SHARE: Final = ((1975, 0.55, 0.70), (1990, 0.35, 0.50), (2005, 0.15, 0.25),
                                    (9999, 0.08, 0.10))

_MALE_GIVEN: Final = (
    ("Anh", 4), ("Tuấn", 4), ("Hùng", 4), ("Dũng", 4), ("Minh", 4), ("Hải", 3), ("Nam", 3),
    ("Long", 3), ("Sơn", 3), ("Thắng", 3), ("Cường", 3), ("Hưng", 3), ("Đức", 3), ("Huy", 3),
    ("Trung", 3), ("Thành", 3), ("Hoàng", 2), ("Khánh", 2), ("Phong", 2), ("Quang", 2),
    ("Quân", 2), ("Tùng", 2), ("Việt", 2), ("Vinh", 2), ("Bình", 2), ("Hiếu", 2), ("Kiên", 2),
    ("Nghĩa", 2), ("Phúc", 2), ("Thịnh", 2), ("Toàn", 2), ("Tiến", 2), ("Đạt", 2), ("Lâm", 1),
    ("Tài", 1), ("Trí", 1), ("Tâm", 1), ("Thanh", 1), ("Hiệp", 1), ("Hậu", 1), ("Khoa", 1),
    ("Lợi", 1), ("Lực", 1), ("Đông", 1), ("Hòa", 1), ("Tú", 1), ("Bảo", 1), ("Duy", 1),
    ("Giang", 1), ("Khôi", 1), ("Mạnh", 1), ("Phát", 1), ("Quý", 1), ("Sang", 1), ("Thái", 1),
    ("Thiện", 1), ("Trường", 1), ("Vũ", 1), ("Chiến", 1), ("Công", 1),
)
_FEMALE_GIVEN: Final = (
    ("Hương", 4), ("Lan", 4), ("Linh", 4), ("Trang", 4), ("Anh", 3), ("Hà", 3), ("Hoa", 3),
    ("Hằng", 3), ("Huyền", 3), ("Mai", 3), ("Nga", 3), ("Phương", 3), ("Thảo", 3), ("Thủy", 3),
    ("Ngọc", 2), ("Thúy", 2), ("Thu", 2), ("Dung", 2), ("Giang", 2), ("Hạnh", 2), ("Hiền", 2),
    ("Hồng", 2), ("Liên", 2), ("Loan", 2), ("Ngân", 2), ("Nhung", 2), ("Oanh", 2),
    ("Quỳnh", 2), ("Thanh", 2), ("Tuyết", 2), ("Vân", 2), ("Yến", 2), ("Huệ", 1), ("Ly", 1),
    ("My", 1), ("Tâm", 1), ("Trinh", 1), ("Uyên", 1), ("Chi", 1), ("Diệp", 1), ("Duyên", 1),
    ("Hòa", 1), ("Lệ", 1), ("Nhàn", 1), ("Nhi", 1), ("Tú", 1), ("Xuân", 1), ("Vy", 1),
    ("Ánh", 1), ("Châm", 1), ("Thơ", 1), ("Lý", 1),
)


def _nfc(weighted: Sequence[tuple[str, float]]) -> list[tuple[str, float]]:
    """Names in composed form (NFC), as PostgreSQL and the registry compare them."""
    return [(unicodedata.normalize("NFC", name), weight) for name, weight in weighted]


def _family_urns() -> dict[str, Urn[str]]:
    urns = {"Kinh": Urn(_nfc(_KINH_FAMILY), resolution=10_000)}
    for ethnicity, names in _MINORITY_FAMILY.items():
        # A fifth of each minority carries common Kinh family names.
        share = sum(w for _, w in names) / 4
        mixed = [*names, *((n, w * share / 100) for n, w in _KINH_FAMILY[:8])]
        urns[ethnicity] = Urn(_nfc(mixed))
    return urns


_FAMILY_URNS: Final = _family_urns()
_MIDDLE_URNS: Final = {
    (sex, band): Urn(_nfc([(traditional, share * 100),
                           *((n, w * (1 - share) * 100 / sum(x for _, x in pool))
                             for n, w in pool)]))
    for band, male_share, female_share in _TRADITIONAL_MIDDLE_SHARE
    for sex, traditional, share, pool in (("male", "Văn", male_share, _MALE_MIDDLE),
                                          ("female", "Thị", female_share, _FEMALE_MIDDLE))
}
_GIVEN_URNS: Final = {"male": Urn(_nfc(_MALE_GIVEN)), "female": Urn(_nfc(_FEMALE_GIVEN))}


def family_urn(ethnicity: str) -> Urn[str]:
    return _FAMILY_URNS.get(ethnicity, _FAMILY_URNS["Kinh"])


def middle_urn(sex: str, birth_year: int) -> Urn[str]:
    for band, _, _ in _TRADITIONAL_MIDDLE_SHARE:
        if birth_year < band:
            return _MIDDLE_URNS[(sex, band)]
    raise AssertionError("the last band is open-ended")


def given_urn(sex: str) -> Urn[str]:
    return _GIVEN_URNS[sex]


_STROKED: Final = {"đ": "d", "Đ": "D"}


def misspell(full_name: str, rng: random.Random) -> str:
    """The name as a careless clerk typed it: one diacritic dropped, else two letters swapped.

    The result always differs from ``full_name`` (for names of at least two letters).
    """
    decomposed = unicodedata.normalize("NFD", full_name)
    marks = [i for i, ch in enumerate(decomposed)
             if unicodedata.combining(ch) or ch in _STROKED]
    if marks:
        i = marks[int(rng.random() * len(marks))]
        replacement = _STROKED.get(decomposed[i], "")
        return unicodedata.normalize("NFC", decomposed[:i] + replacement + decomposed[i + 1:])
    letters = list(full_name)
    pairs = [i for i in range(len(letters) - 1)
             if letters[i].islower() and letters[i + 1].islower() and letters[i] != letters[i + 1]]
    if not pairs:
        return full_name + full_name[-1:]
    i = pairs[int(rng.random() * len(pairs))]
    letters[i], letters[i + 1] = letters[i + 1], letters[i]
    return "".join(letters)
