"""Columns extracted from a verified projection, at write time only.

JSON-LD processing belongs on the write path: the query path reads these plain
columns. Each value is checked for type and range here, so a signed but malformed
projection is refused rather than stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
import re
from typing import Any, Mapping

from consent import InvalidGrant

ESCO_SKILL = "http://data.europa.eu/esco/skill/"
MAX_SKILLS = 100
WEB_ADDRESS = re.compile(r"https?://\S+\Z")


@dataclass(frozen=True, slots=True)
class Extracted:
    skills: tuple[str, ...]
    employer_code: str | None
    level_rank: int | None
    hours_per_week: int | None
    available_from: date | None = None
    available_until: date | None = None


def extract(projection: dict[str, Any], fields: frozenset[str],
            tooi_to_code: Mapping[str, str]) -> Extracted:
    if "intro_video" in fields:
        _check_video(projection)
    return Extracted(
        skills=_skills(projection) if "skills" in fields else (),
        employer_code=_employer(projection, tooi_to_code) if "employer" in fields else None,
        level_rank=_int_at(projection, ("functionLevel", "levelRank"), 1, 5)
        if "level" in fields else None,
        hours_per_week=_int_at(projection, ("availability", "hoursPerWeek"), 1, 40)
        if "hours_per_week" in fields else None,
        **(_period(projection) if "available_period" in fields else {}),
    )


def _check_video(projection: dict) -> None:
    """The intro video's address is handed to organisations: a web address only
    (the shapes' rule, checked here too for a projection no pod validated)."""
    video = projection.get("introVideo")
    address = video.get("contentUrl") if isinstance(video, dict) else None
    if video is not None and not (isinstance(address, str) and WEB_ADDRESS.match(
            address)):
        raise InvalidGrant(
            ["introVideo.contentUrl is required: one http or https address"])


def _period(projection: dict) -> dict[str, date | None]:
    """The available period; an open end (no endDate) stays None."""
    period = projection.get("availability", {}).get("period")
    if not isinstance(period, dict):
        return {}
    start, end = _date(period, "startDate"), _date(period, "endDate")
    if start and end and start > end:
        raise InvalidGrant(["availability.period must not end before it starts"])
    return {"available_from": start, "available_until": end}


def _date(period: dict, key: str) -> date | None:
    text = period.get(key)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise InvalidGrant([f"availability.period.{key} must be a date"]) from None


def _skills(projection: dict) -> tuple[str, ...]:
    skills = projection.get("skills")
    if not isinstance(skills, list) or len(skills) > MAX_SKILLS:
        raise InvalidGrant([f"skills must be a list of at most {MAX_SKILLS} URIs"])
    if not all(isinstance(s, str) and s.startswith(ESCO_SKILL) for s in skills):
        raise InvalidGrant(["skills must be ESCO skill URIs"])
    return tuple(sorted(set(skills)))


def _employer(projection: dict, tooi_to_code: Mapping[str, str]) -> str:
    employer = projection.get("worksFor")
    if employer not in tooi_to_code:
        raise InvalidGrant(["worksFor must be the TOOI identifier of a known organisation"])
    return tooi_to_code[employer]


def _int_at(projection: dict, path: tuple[str, ...], low: int, high: int) -> int | None:
    node: Any = projection
    for step in path:
        node = node.get(step) if isinstance(node, dict) else None
    if node is None:
        return None
    if not isinstance(node, int) or isinstance(node, bool) or not low <= node <= high:
        raise InvalidGrant([f"{'.'.join(path)} must be an integer from {low} to {high}"])
    return node
