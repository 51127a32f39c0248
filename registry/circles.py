"""Where an assignment looks for people (its circle) and how far away they are.

Both rest on the candidate's *disclosed* employer only: someone who did not consent
to the employer field can not be placed, is left out of every circle narrower than
the whole public sector, and gets no distance part in their score (DESIGN.md
invariant 2: the registry never guesses a withheld field).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

NEIGHBOUR, REGION, FAR = "neighbour", "region", "far"
DISTANCE_POINTS = {NEIGHBOUR: 5, REGION: 3, FAR: 0}


@dataclass(frozen=True, slots=True)
class Distance:
    band: str
    km: int


class Circles:
    """The reference data indexed once for circle and distance questions."""

    def __init__(self, reference):
        self._ref = reference
        self._by_sector: dict[str, set[str]] = defaultdict(set)
        self._by_province: dict[str, set[str]] = defaultdict(set)
        for code, org in reference.organisations.items():
            self._by_sector[org.sector].add(code)
            province = reference.province_of(code)
            if province:
                self._by_province[province].add(code)
        self._by_corop: dict[str, set[str]] = defaultdict(set)
        self._by_safety: dict[str, set[str]] = defaultdict(set)
        for code, m in reference.municipalities.items():
            self._by_corop[m.corop_code].add(code)
            self._by_safety[m.safety_region_code].add(code)

    def members(self, spec, organisation: str) -> frozenset[str] | None:
        """Employers inside the circle, or None when every employer is."""
        place = spec.location or organisation
        municipality = self._ref.municipalities.get(place)
        circle = spec.circle
        if circle == "own":
            return frozenset({organisation})
        if circle == "neighbours":
            return frozenset({organisation, place} | self._ref.neighbours(place))
        if circle == "province":
            return frozenset(self._by_province.get(
                self._ref.province_of(organisation) or "", ()))
        if circle == "corop" and municipality:
            return frozenset(self._by_corop[municipality.corop_code])
        if circle == "safety_region" and municipality:
            return frozenset(self._by_safety[municipality.safety_region_code])
        if circle == "municipalities":
            return frozenset(self._by_sector["municipality"])
        if circle == "sector":
            return frozenset(self._by_sector.get(spec.circle_ref or "", ()))
        return None

    def bands(self, location: str | None) -> tuple[frozenset[str], frozenset[str]]:
        """The employers ``distance`` puts in the neighbour band and in the region
        band of ``location`` (both empty when it is not a municipality)."""
        here = self._ref.municipalities.get(location or "")
        if here is None:
            return frozenset(), frozenset()
        municipalities = self._ref.municipalities.keys()
        near = frozenset(({location} | self._ref.neighbours(location))
                         & municipalities)
        return near, frozenset(self._by_corop[here.corop_code] - near)

    def distance(self, location: str | None, employer: str | None) -> Distance | None:
        """Neighbour (the same or a bordering municipality), region (the same COROP
        area) or far, between two municipalities' area centroids."""
        here = self._ref.municipalities.get(location or "")
        there = self._ref.municipalities.get(employer or "")
        if here is None or there is None:
            return None
        km = round(_km(here.lat, here.lon, there.lat, there.lon))
        if employer == location or employer in self._ref.neighbours(location):
            return Distance(NEIGHBOUR, km)
        if here.corop_code == there.corop_code:
            return Distance(REGION, km)
        return Distance(FAR, km)


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine); centroids are km-scale anyway."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))
