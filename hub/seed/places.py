"""Where people live and come from: province populations, communes, addresses, ethnicity.

Addresses use the two-level layout in force since 1 July 2025 (commune or ward, then province);
a *stale* address uses the older three-level layout with a district and the pre-merger province,
as an HR system that was never updated would still hold it. Ethnicity and religion depend on
the province where a birth was registered, so minorities cluster where they really live (Tày
and Nùng in the north-east, Thái and H'Mông in the north-west, Gia Rai and Ê Đê in the Central
Highlands, Khmer in the Mekong delta ...).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Final

from hub.seed.catalog import Catalog
from hub.seed.draw import between
from hub.seed.names import Urn

__all__ = ["PROVINCE_POPULATION", "Places"]

# Approximate population (millions) of the 34 provinces after the 2025 merger.
PROVINCE_POPULATION: Final[dict[str, float]] = {
    "01": 8.7, "04": 0.57, "08": 1.87, "11": 0.64, "12": 0.48, "14": 1.3, "15": 1.78,
    "19": 1.8, "20": 0.8, "22": 1.4, "24": 3.6, "25": 4.0, "31": 4.7, "33": 3.6, "37": 4.4,
    "38": 3.8, "40": 3.5, "42": 1.3, "44": 1.9, "46": 1.2, "48": 3.1, "51": 1.9, "52": 3.6,
    "56": 2.2, "66": 3.3, "68": 3.9, "75": 4.5, "79": 14.0, "80": 3.3, "82": 4.4, "86": 4.3,
    "91": 4.9, "92": 4.2, "96": 2.6,
}

_ETHNIC_MIX: Final[dict[str, tuple[tuple[str, float], ...]]] = {
    "north_east": (("Kinh", 45), ("Tày", 24), ("Nùng", 14), ("Dao", 7), ("H'Mông", 8),
                   ("Hoa", 1), ("Mường", 1)),
    "north_west": (("Kinh", 35), ("Thái", 40), ("H'Mông", 13), ("Mường", 5), ("Dao", 5),
                   ("Tày", 2)),
    "muong": (("Kinh", 55), ("Mường", 40), ("Thái", 3), ("Dao", 2)),
    "north_central": (("Kinh", 88), ("Thái", 6), ("Mường", 5), ("H'Mông", 1)),
    "highlands": (("Kinh", 76), ("Gia Rai", 11), ("Ê Đê", 8), ("Tày", 2), ("Nùng", 2),
                  ("Mường", 1)),
    "khmer": (("Kinh", 84), ("Khmer", 13), ("Hoa", 3)),
    "cham": (("Kinh", 88), ("Chăm", 10), ("Hoa", 2)),
    "metropolis": (("Kinh", 95), ("Hoa", 4), ("Khmer", 0.5), ("Chăm", 0.5)),
    "lowland": (("Kinh", 98.4), ("Mường", 0.5), ("Tày", 0.4), ("Hoa", 0.4), ("Nùng", 0.3)),
}
# Region of each pre-merger province (where births were registered); the rest are "lowland".
_REGION: Final[dict[str, str]] = {
    **dict.fromkeys(("02", "04", "06", "08", "10", "15", "19", "20"), "north_east"),
    **dict.fromkeys(("11", "12", "14"), "north_west"),
    "17": "muong",
    **dict.fromkeys(("38", "40"), "north_central"),
    **dict.fromkeys(("62", "64", "66", "67", "68"), "highlands"),
    **dict.fromkeys(("84", "89", "91", "94", "95"), "khmer"),
    **dict.fromkeys(("58", "60"), "cham"),
    **dict.fromkeys(("74", "77", "79"), "metropolis"),  # Hồ Chí Minh City's Hoa community
}

_RELIGION_DEFAULT: Final = (("Không", 85), ("Phật giáo", 8), ("Công giáo", 5.5),
                            ("Tin lành", 0.8), ("Cao Đài", 0.4), ("Phật giáo Hòa Hảo", 0.3))
# Communities whose faith differs from the national picture.
_RELIGION_BY_ETHNICITY: Final[dict[str, tuple[tuple[str, float], ...]]] = {
    "Khmer": (("Phật giáo", 90), ("Không", 10)),
    "Hoa": (("Không", 55), ("Phật giáo", 40), ("Công giáo", 5)),
    "Gia Rai": (("Không", 45), ("Tin lành", 35), ("Công giáo", 20)),
    "Ê Đê": (("Không", 40), ("Tin lành", 40), ("Công giáo", 20)),
    "H'Mông": (("Không", 80), ("Tin lành", 20)),
    "Chăm": (("Không", 30), ("Hồi giáo", 35), ("Bà-la-môn", 35)),
}
_RELIGION_BY_PROVINCE: Final[dict[str, tuple[tuple[str, float], ...]]] = {
    "36": (("Không", 78), ("Công giáo", 17), ("Phật giáo", 5)),  # Nam Định
    "37": (("Không", 80), ("Công giáo", 15), ("Phật giáo", 5)),  # Ninh Bình
    "72": (("Không", 75), ("Cao Đài", 12), ("Phật giáo", 10), ("Công giáo", 3)),  # Tây Ninh
    "89": (("Không", 70), ("Phật giáo Hòa Hảo", 18), ("Phật giáo", 10), ("Công giáo", 2)),
}

# Wards of Hà Nội and Hồ Chí Minh City after the 2025 reorganisation.
_REAL_COMMUNES: Final[dict[str, tuple[str, ...]]] = {
    "01": (
        "Phường Hoàn Kiếm", "Phường Cửa Nam", "Phường Ba Đình", "Phường Ngọc Hà",
        "Phường Giảng Võ", "Phường Hai Bà Trưng", "Phường Vĩnh Tuy", "Phường Bạch Mai",
        "Phường Đống Đa", "Phường Kim Liên", "Phường Văn Miếu - Quốc Tử Giám", "Phường Láng",
        "Phường Ô Chợ Dừa", "Phường Hồng Hà", "Phường Lĩnh Nam", "Phường Hoàng Mai",
        "Phường Tương Mai", "Phường Định Công", "Phường Hoàng Liệt", "Phường Thanh Xuân",
        "Phường Khương Đình", "Phường Phương Liệt", "Phường Cầu Giấy", "Phường Nghĩa Đô",
        "Phường Yên Hòa", "Phường Tây Hồ", "Phường Phú Thượng", "Phường Xuân Đỉnh",
        "Phường Đông Ngạc", "Phường Từ Liêm", "Phường Xuân Phương", "Phường Tây Mỗ",
        "Phường Đại Mỗ", "Phường Long Biên", "Phường Bồ Đề", "Phường Việt Hưng",
        "Phường Phúc Lợi", "Phường Hà Đông", "Phường Dương Nội", "Phường Yên Nghĩa",
        "Phường Kiến Hưng", "Phường Sơn Tây", "Xã Gia Lâm", "Xã Bát Tràng", "Xã Đông Anh",
        "Xã Thư Lâm", "Xã Sóc Sơn", "Xã Thanh Trì", "Xã Ba Vì", "Xã Thạch Thất",
        "Xã Quốc Oai", "Xã Chương Mỹ", "Xã Thường Tín", "Xã Mê Linh",
    ),
    "79": (
        "Phường Sài Gòn", "Phường Tân Định", "Phường Bến Thành", "Phường Cầu Ông Lãnh",
        "Phường Bàn Cờ", "Phường Xuân Hòa", "Phường Nhiêu Lộc", "Phường Chợ Quán",
        "Phường An Đông", "Phường Chợ Lớn", "Phường Bình Tây", "Phường Phú Lâm",
        "Phường Tân Sơn Nhất", "Phường Tân Bình", "Phường Bảy Hiền", "Phường Phú Nhuận",
        "Phường Gia Định", "Phường Bình Thạnh", "Phường Thạnh Mỹ Tây", "Phường Gò Vấp",
        "Phường Hạnh Thông", "Phường An Nhơn", "Phường Thủ Đức", "Phường Linh Xuân",
        "Phường Hiệp Bình", "Phường Tăng Nhơn Phú", "Phường An Khánh", "Phường Bình Trưng",
        "Phường Tân Thuận", "Phường Phú Thuận", "Phường Tân Mỹ", "Phường Thủ Dầu Một",
        "Phường Phú Lợi", "Phường Dĩ An", "Phường Thuận An", "Phường Vũng Tàu",
        "Phường Bà Rịa", "Phường Tam Thắng", "Xã Củ Chi", "Xã Hóc Môn", "Xã Bình Chánh",
        "Xã Nhà Bè", "Xã Cần Giờ", "Xã Long Hải",
    ),
}
# Place names that recur all over the country, for the other provinces' communes.
_COMMON_PLACE_NAMES: Final = (
    "Tân Lập", "Tân Tiến", "Hòa Bình", "Thanh Xuân", "Quang Trung", "Hồng Phong", "Đông Hưng",
    "Xuân Phương", "Yên Hòa", "An Phú", "Phú Lợi", "Tân Phong", "Bình Minh", "Đại Đồng",
    "Minh Khai", "Nam Sơn", "Hưng Đạo", "Phúc Thành", "Vĩnh Thịnh", "Long Hưng", "Hợp Thành",
    "Tân Hòa", "Phước Long", "Mỹ Phước", "Thuận An", "Hòa Thành", "Cẩm Phong", "Quảng Phú",
    "Nghĩa Trung", "Kim Sơn", "Tiên Phước", "Bình Thuận", "Phú Mỹ", "Tân Thành", "Trung Hòa",
    "Đông Hòa", "Tây Sơn", "Hương Sơn", "Việt Hưng", "Thái Học", "Đức Thắng", "An Bình",
    "Vĩnh Hưng", "Hòa Hiệp", "Gia Lộc", "Yên Thế", "Thống Nhất", "Độc Lập", "Trường Xuân",
    "Hiệp Hòa", "Lam Sơn", "Đồng Tâm", "Phong Phú", "Tân An", "Hưng Lộc", "Xuân Lâm",
)
_STREETS: Final = (
    "Lê Lợi", "Trần Hưng Đạo", "Nguyễn Trãi", "Hai Bà Trưng", "Lý Thường Kiệt", "Quang Trung",
    "Lê Duẩn", "Nguyễn Huệ", "Hùng Vương", "Trần Phú", "Phan Đình Phùng", "Nguyễn Du",
    "Bà Triệu", "Điện Biên Phủ", "Võ Thị Sáu", "Nguyễn Văn Cừ", "Lê Hồng Phong",
    "Hoàng Văn Thụ", "Nguyễn Thị Minh Khai", "Phạm Văn Đồng", "Tôn Đức Thắng",
    "Lạc Long Quân", "Nguyễn Chí Thanh", "Trường Chinh", "Lê Thánh Tông", "Ngô Quyền",
    "Đinh Tiên Hoàng", "Lý Thái Tổ", "Phan Chu Trinh", "Chu Văn An", "Lê Quý Đôn",
    "Nguyễn Đình Chiểu", "Cách Mạng Tháng Tám", "Ba Tháng Hai", "Trần Quang Khải",
)
# Southern villages are "ấp", north-western ones "bản", the rest "thôn" or "xóm".
_VILLAGE_WORD: Final[dict[str, str]] = {
    **dict.fromkeys(("75", "79", "80", "82", "86", "91", "92", "96"), "Ấp"),
    **dict.fromkeys(("11", "12", "14"), "Bản"),
}
_URBAN_SHARE: Final = 0.6


@dataclass(frozen=True, slots=True)
class _Province:
    name: str
    wards: tuple[str, ...]
    communes: tuple[str, ...]
    village: str
    legacy_names: tuple[str, ...]  # pre-merger provinces now part of this one


class Places:
    """Addresses, birthplaces and ethnicity draws, built once per process from the catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self._provinces: dict[str, _Province] = {}
        for province in catalog.provinces:
            wards, communes = _communes(province.code)
            legacy = tuple(lp.name for lp in catalog.legacy_provinces
                           if lp.successor_code == province.code)
            self._provinces[province.code] = _Province(
                province.name, wards, communes, _VILLAGE_WORD.get(province.code, "Thôn"),
                legacy or (province.name,))
        self.successor: dict[str, str] = {lp.code: lp.successor_code
                                          for lp in catalog.legacy_provinces}
        # A pre-merger province's share of births: its successor's population split evenly.
        members: dict[str, int] = {}
        for lp in catalog.legacy_provinces:
            members[lp.successor_code] = members.get(lp.successor_code, 0) + 1
        self.birth_province_urn = Urn(
            [(lp.code, PROVINCE_POPULATION[lp.successor_code] / members[lp.successor_code])
             for lp in catalog.legacy_provinces], resolution=20_000)
        self.legacy_members: dict[str, tuple[str, ...]] = {
            code: tuple(lp.code for lp in catalog.legacy_provinces if lp.successor_code == code)
            for code in self._provinces}
        self._ethnicity_urns = {region: Urn(mix, resolution=5_000)
                                for region, mix in _ETHNIC_MIX.items()}
        self._religion_urns: dict[tuple[str, str], Urn[str]] = {}

    def province_name(self, code: str) -> str:
        return self._provinces[code].name

    def birth_province(self, rng: random.Random, home_province: str | None,
                       local_share: float) -> str:
        """A pre-merger province code: usually one that now forms ``home_province``."""
        if home_province is not None and rng.random() < local_share:
            local = self.legacy_members[home_province]
            return local[int(rng.random() * len(local))]
        return self.birth_province_urn.draw(rng)

    def current_registration_code(self, birth_province: str) -> str:
        """Births after the merger are registered under the successor's code."""
        return self.successor[birth_province]

    def ethnicity(self, rng: random.Random, birth_province: str) -> str:
        return self._ethnicity_urns[_REGION.get(birth_province, "lowland")].draw(rng)

    def religion(self, rng: random.Random, ethnicity: str, birth_province: str) -> str:
        key = (ethnicity, birth_province)
        urn = self._religion_urns.get(key)
        if urn is None:
            mix = (_RELIGION_BY_ETHNICITY.get(ethnicity)
                   or _RELIGION_BY_PROVINCE.get(birth_province) or _RELIGION_DEFAULT)
            urn = self._religion_urns[key] = Urn(mix, resolution=1_000)
        return urn.draw(rng)

    def address(self, rng: random.Random, province_code: str) -> str:
        """A current address: house or village, commune or ward, province."""
        p = self._provinces[province_code]
        if rng.random() < _URBAN_SHARE:
            ward = p.wards[int(rng.random() * len(p.wards))]
            street = _STREETS[int(rng.random() * len(_STREETS))]
            if rng.random() < 0.4:
                return (f"Số {between(rng, 1, 80)}, ngõ {between(rng, 2, 300)} đường {street}, "
                        f"{ward}, {p.name}")
            return f"Số {between(rng, 1, 400)} đường {street}, {ward}, {p.name}"
        commune = p.communes[int(rng.random() * len(p.communes))]
        return f"{p.village} {between(rng, 1, 15)}, {commune}, {p.name}"

    def hometown(self, rng: random.Random, birth_province: str) -> str:
        """A place of origin (quê quán): a commune of the province the family comes from."""
        p = self._provinces[self.successor[birth_province]]
        commune = p.communes[int(rng.random() * len(p.communes))]
        return f"{commune}, {p.name}"

    def stale_address(self, rng: random.Random, province_code: str) -> str:
        """An address as written before 1 July 2025: ward, district, pre-merger province."""
        p = self._provinces[province_code]
        old_province = p.legacy_names[int(rng.random() * len(p.legacy_names))]
        place = _COMMON_PLACE_NAMES[int(rng.random() * len(_COMMON_PLACE_NAMES))]
        district = _COMMON_PLACE_NAMES[int(rng.random() * len(_COMMON_PLACE_NAMES))]
        street = _STREETS[int(rng.random() * len(_STREETS))]
        return (f"Số {between(rng, 1, 400)} đường {street}, Phường {place}, "
                f"Quận {district}, {old_province}")


def _communes(province_code: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(wards, rural communes) of a province: real ones where listed, else common names.

    Drawn from a generator seeded by the province code alone: the same in every seed, like
    real geography.
    """
    real = _REAL_COMMUNES.get(province_code)
    if real:
        return (tuple(c for c in real if c.startswith("Phường")),
                tuple(c for c in real if c.startswith("Xã")))
    rng = random.Random(f"communes/{province_code}")
    names = rng.sample(_COMMON_PLACE_NAMES, 14)
    return (tuple(f"Phường {n}" for n in names[:6]), tuple(f"Xã {n}" for n in names[6:]))
