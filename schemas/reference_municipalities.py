"""Dutch municipalities (CBS 2024 list, same codes in 2025) and which ones border.

The functions here turn one CSV row (a mapping of column to text) into a value and
raise `ValueError` for a bad value; `schemas.reference` reads the files and adds the
file name and line to the error.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

MUNICIPALITY_COLUMNS = (
    "code",
    "name",
    "province_code",
    "province_name",
    "corop_code",
    "corop_name",
    "veiligheidsregio_code",
    "veiligheidsregio_name",
    "centroid_lat",
    "centroid_lon",
)
NEIGHBOUR_COLUMNS = ("code_a", "code_b")

_MUNICIPALITY_CODE = re.compile(r"GM\d{4}")
_PROVINCE_CODE = re.compile(r"PV\d{2}")


@dataclass(frozen=True, slots=True)
class Municipality:
    """One municipality; `lat`/`lon` are the WGS84 area centroid (km-scale only)."""

    code: str
    name: str
    province_code: str
    province_name: str
    corop_code: str
    corop_name: str
    safety_region_code: str
    safety_region_name: str
    lat: float
    lon: float


def municipality_from_row(row: Mapping[str, str]) -> Municipality:
    """Build a municipality from a `gemeenten.csv` row."""
    return Municipality(
        code=_matching(row, "code", _MUNICIPALITY_CODE),
        name=row["name"],
        province_code=_matching(row, "province_code", _PROVINCE_CODE),
        province_name=row["province_name"],
        corop_code=row["corop_code"],
        corop_name=row["corop_name"],
        safety_region_code=row["veiligheidsregio_code"],
        safety_region_name=row["veiligheidsregio_name"],
        lat=_coordinate(row, "centroid_lat", 50.0, 54.0),
        lon=_coordinate(row, "centroid_lon", 3.0, 8.0),
    )


def neighbour_pair_from_row(
    row: Mapping[str, str], known: Container[str]
) -> tuple[str, str]:
    """Read one `neighbours.csv` pair; both sides must be known, distinct codes."""
    pair = (row["code_a"], row["code_b"])
    for column, code in zip(NEIGHBOUR_COLUMNS, pair):
        if code not in known:
            raise ValueError(f"{column} must be a known municipality, got {code!r}")
    if pair[0] == pair[1]:
        raise ValueError(f"a municipality cannot neighbour itself ({pair[0]})")
    return pair


def neighbour_map(
    codes: Iterable[str], pairs: Iterable[tuple[str, str]]
) -> Mapping[str, frozenset[str]]:
    """Make the pair list symmetric; islands get an empty set rather than no entry."""
    found: dict[str, set[str]] = {code: set() for code in codes}
    for code_a, code_b in pairs:
        found[code_a].add(code_b)
        found[code_b].add(code_a)
    return MappingProxyType({code: frozenset(n) for code, n in found.items()})


def province_members(
    municipalities: Iterable[Municipality],
) -> Mapping[str, frozenset[str]]:
    """Group municipality codes by the code of their province."""
    members: dict[str, set[str]] = defaultdict(set)
    for municipality in municipalities:
        members[municipality.province_code].add(municipality.code)
    return MappingProxyType({code: frozenset(m) for code, m in members.items()})


def _matching(row: Mapping[str, str], column: str, pattern: re.Pattern[str]) -> str:
    value = row[column]
    if not pattern.fullmatch(value):
        raise ValueError(f"{column} must look like {pattern.pattern}, got {value!r}")
    return value


def _coordinate(row: Mapping[str, str], column: str, low: float, high: float) -> float:
    # The bounds are a loose box around the Netherlands: they catch swapped or
    # mangled columns, which a bare float() would let through.
    try:
        value = float(row[column])
    except ValueError:
        raise ValueError(f"{column} must be a number, got {row[column]!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{column} must lie between {low} and {high}, got {value}")
    return value
