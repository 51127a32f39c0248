"""Ranking candidates for an assignment, on consented fields only.

The score (at most 100) is a sum a project leader can follow:

==================  ======  ===================================================
part                points  how
==================  ======  ===================================================
required skills     50      per required skill the best of: the skill itself
                            (full), a broader or narrower skill (half), a
                            sibling in the ESCO hierarchy (a quarter)
nice-to-have        10      the same, weighted by each skill's weight (1-3)
level fit           15      inside the range 15, one step outside 7
hours fit           10      hours available against hours needed
period overlap      10      share of the assignment's period the person is free
distance            5       neighbour 5, same COROP region 3, far 0
==================  ======  ===================================================

Each part comes with a reason naming the consented field it rests on; a field the
candidate did not disclose adds nothing and produces no reason, so a candidate can
rank on what they did consent to. Order is total and stable: score, then the
requesting organisation's tie key of the holder (``org_pseudonyms.tie_keys``;
never a personal field, and not the registry's pseudonym, whose order every
organisation would share). Matching only suggests: people
decide (GDPR art. 22).

Points are rounded half up, in integers (skill weights in quarters), so that the
ranking in memory (``registry.match_scoring``), which orders every candidate, and
this class, which explains the page, give the same number for the same candidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Iterable

from .assignments import AssignmentSpec, StoredAssignment
from .circles import DISTANCE_POINTS, Circles
from .relations import Relation, SkillRelations, SkillRelationsOnFirstUse

# The processing activity of matching in the records of processing (A3).
MATCH_ACTIVITY = "https://w3id.org/virtuele-gemeente/register#matching-v1"


@dataclass(frozen=True, slots=True)
class Scored:
    pseudonym: str
    score: int
    reasons: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Ranked:
    profile: Any  # the VisibleProfile shown
    score: int
    reasons: tuple[dict[str, Any], ...]


class Matcher:
    """Scores one assignment; the skill relations are expanded once per query."""

    def __init__(self, assignment: StoredAssignment,
                 relations: SkillRelations | SkillRelationsOnFirstUse,
                 circles: Circles):
        self.assignment = assignment
        self.spec: AssignmentSpec = assignment.spec
        self._circles = circles
        self._required = {uri: relations.related(uri)
                          for uri in self.spec.required_skills}
        self._optional = {uri: relations.related(uri)
                          for uri in self.spec.optional_skills}
        self.members = circles.members(self.spec, assignment.organisation)

    @property
    def required(self) -> dict[str, dict[str, Relation]]:
        return self._required

    @property
    def required_total(self) -> int:
        return len(self._required)

    @property
    def optional_total(self) -> int:
        return sum(self.spec.weight(uri) for uri in self._optional)

    def slots(self) -> list[tuple[str, dict[str, Relation]]]:
        """Required skills first, then the nice-to-haves, each with its relations."""
        return [*self._required.items(), *self._optional.items()]

    def slot_weight(self, slot: int, uri: str) -> int:
        return 1 if slot < len(self._required) else self.spec.weight(uri)

    def distance_bands(self) -> tuple[frozenset[str], frozenset[str]]:
        """Employers in the neighbour band and in the region band of the work."""
        if self.spec.remote:
            return frozenset(), frozenset()
        return self._circles.bands(self.spec.location)

    def skills_to_look_for(self) -> frozenset[str]:
        return frozenset(s for table in (*self._required.values(),
                                         *self._optional.values()) for s in table)

    def in_circle(self, signals) -> bool:
        employer = signals.employer_code
        if employer is None:
            # A freelancer has no employer; someone who withheld it can't be placed.
            return self.members is None and self.spec.freelancers
        return self.members is None or employer in self.members

    def rank(self, candidates: Iterable, passed: frozenset[str] = frozenset(), *,
             tie: Callable[[str], bytes]) -> list[Scored]:
        """Every candidate with points, best first; ties in the order of ``tie``
        (the organisation's tie key of a pseudonym)."""
        scored = [self.score(c) for c in candidates
                  if c.pseudonym not in passed and self.in_circle(c)]
        scored = [s for s in scored if s.score > 0]
        scored.sort(key=lambda s: (-s.score, tie(s.pseudonym)))
        return scored

    def score(self, c) -> Scored:
        parts = [
            _skills("required-skills", self._required, c.skills, 50, None),
            _skills("optional-skills", self._optional, c.skills, 10, self.spec.weight),
            _level(self.spec.level_min, self.spec.level_max, c.level_rank),
            _hours(self.spec.hours_per_week, c.hours_per_week),
            _period(self.spec.period_start, self.spec.period_end,
                    c.available_from, c.available_until),
            self._distance(c.employer_code),
        ]
        parts = [p for p in parts if p is not None]
        return Scored(c.pseudonym, sum(points for points, _ in parts),
                      tuple(reason for _, reason in parts))

    def _distance(self, employer: str | None):
        if self.spec.remote:
            return None
        found = self._circles.distance(self.spec.location, employer)
        if found is None:
            return None
        points = DISTANCE_POINTS[found.band]
        return points, {"code": "distance", "field": "employer", "band": found.band,
                        "km": found.km, "points": points}


def quarters(relation: Relation) -> int:
    """A relation's weight in quarters (exact 4, broader or narrower 2, sibling 1)."""
    return round(relation.weight * 4)


def half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, for non-negative integers."""
    return (2 * numerator + denominator) // (2 * denominator)


def _skills(code: str, wanted: dict[str, dict[str, Relation]], have: frozenset[str],
            weight: int, skill_weight):
    if not wanted or not have:
        return None
    matched, total, got = [], 0, 0
    for uri, related in wanted.items():
        w = skill_weight(uri) if skill_weight else 1
        total += w
        hits = related.keys() & have
        if hits:
            via = uri if uri in hits else max(
                hits, key=lambda s: (related[s].weight, s))
            relation = related[via]
            got += w * quarters(relation)
            matched.append({"skill": uri, "via": via, "relation": relation.kind})
    points = half_up(weight * got, 4 * total)
    return points, {"code": code, "field": "skills", "matched": matched,
                    "of": len(wanted), "points": points}


def _level(low: int | None, high: int | None, rank_: int | None):
    if rank_ is None or (low is None and high is None):
        return None
    low, high = low or 1, high or 5
    distance = max(low - rank_, rank_ - high, 0)
    points = {0: 15, 1: 7}.get(distance, 0)
    return points, {"code": "level-fit", "field": "level", "distance": distance,
                    "points": points}


def _hours(needed: int | None, available: int | None):
    if needed is None or available is None:
        return None
    points = 10 if available >= needed else half_up(10 * available, needed)
    return points, {"code": "hours-fit", "field": "hours_per_week",
                    "available": available, "needed": needed, "points": points}


def _period(start: date | None, end: date | None, free_from: date | None,
            free_until: date | None):
    if start is None or end is None or (free_from is None and free_until is None):
        return None
    lo = max(start, free_from or start)
    hi = min(end, free_until or end)
    days = (end - start).days + 1
    overlap = max(0, (hi - lo).days + 1)
    points = half_up(10 * overlap, days)
    return points, {"code": "period-overlap", "field": "available_period",
                    "days": overlap, "of": days, "points": points}
