"""Ranking candidates for an assignment, on consented fields only.

The score is a sum a project leader can follow: required skills covered (60), optional
skills covered (15), function level within the range (15, or 7 when one step off),
hours available against hours needed (10). Each part comes with a reason naming the
consented field it rests on; a field the candidate did not disclose adds nothing and
produces no reason. Matching only suggests: people decide (GDPR art. 22).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from consent import Geography

from .assignments import StoredAssignment
from .gate import VisibleProfile


@dataclass(frozen=True, slots=True)
class Ranked:
    profile: VisibleProfile
    score: int
    reasons: tuple[dict[str, Any], ...]


def in_circle(assignment: StoredAssignment, profile: VisibleProfile,
              geo: Geography) -> bool:
    """Whether the candidate's disclosed employer lies in the assignment's circle.

    Outside the national circle, a candidate who did not disclose an employer can not
    be placed and is left out: the registry never guesses a withheld field.
    """
    circle, org = assignment.spec.circle, assignment.organisation
    if circle == "national":
        return True
    employer = profile.employer_code
    if employer is None:
        return False
    if circle == "own":
        return employer == org
    if circle == "neighbours":
        return employer == org or employer in geo.neighbours(org)
    province = geo.province_of(org)
    return province is not None and geo.province_of(employer) == province


def rank(assignment: StoredAssignment, profiles: list[VisibleProfile],
         geo: Geography) -> list[Ranked]:
    ranked = [_score(assignment, p) for p in profiles if in_circle(assignment, p, geo)]
    ranked = [r for r in ranked if r.score > 0]
    # Stable, total order: score, then the pseudonym (never a personal field).
    ranked.sort(key=lambda r: (-r.score, r.profile.pseudonym))
    return ranked


def _score(assignment: StoredAssignment, profile: VisibleProfile) -> Ranked:
    spec = assignment.spec
    parts = [
        _coverage("required-skills", spec.required_skills, profile.skills, 60),
        _coverage("optional-skills", spec.optional_skills, profile.skills, 15),
        _level(spec.level_min, spec.level_max, profile.level_rank),
        _hours(spec.hours_per_week, profile.hours_per_week),
    ]
    parts = [p for p in parts if p is not None]
    score = sum(points for points, _ in parts)
    return Ranked(profile, score, tuple(reason for _, reason in parts))


def _coverage(code: str, wanted, have: frozenset[str], weight: int):
    if not wanted or not have:
        return None
    matched = sorted(set(wanted) & have)
    points = round(weight * len(matched) / len(wanted))
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
    points = round(10 * min(1.0, available / needed))
    return points, {"code": "hours-fit", "field": "hours_per_week",
                    "available": available, "needed": needed, "points": points}
