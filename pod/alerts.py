"""Alerts computed in the pod: open assignments matched against the full, private
Workcontext, so the registry learns nothing from an alert.

The pod receives the registry's feed as JSON (it never imports the registry), keeps a
cursor, and checks each assignment locally: is my employer in its audience, and how
well do my skills, level and hours fit? The alerts, the cursor and the holder's
settings (how often, how fitting) are stored encrypted in the pod like its state.
Matching only suggests (GDPR art. 22): an alert is a hint, the holder decides.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from consent import format_time, parse_time

from .errors import PodError
from .files import STAGING, atomic_write, pod_lock
from .holder import UnlockedPod

FREQUENCIES = {"immediately": timedelta(0), "daily": timedelta(days=1),
               "weekly": timedelta(days=7)}
MAX_ALERTS = 500
FILE = "alerts.bin"


class InvalidAlertSettings(PodError):
    status = 400
    code = "invalid-input"

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


MAX_SCORE = 100  # a fit's score is 0-100 (``fit``)


@dataclass(frozen=True, slots=True)
class AlertSettings:
    frequency: str = "daily"
    min_score: int = 50

    def problems(self) -> list[str]:
        found = []
        if self.frequency not in FREQUENCIES:
            found.append("frequency must be one of " + ", ".join(FREQUENCIES))
        if isinstance(self.min_score, bool) or not isinstance(self.min_score, int) \
                or not 0 <= self.min_score <= MAX_SCORE:
            found.append(f"minScore must be an integer from 0 to {MAX_SCORE}")
        return found


def fit(workcontext: dict[str, Any], item: dict[str, Any]) -> tuple[int, list[dict]]:
    """Score (0-100) and reasons of one assignment against the Workcontext: required
    skills 60, optional skills 15 (each counted by its weight, 1-3), level 15 (7 one
    step off), hours 10.

    The item is the registry's JSON, read as untrusted input: a part of it that does
    not have the shape the feed documents counts as absent, so one odd assignment can
    never stop the holder's alerts."""
    skills = set(_texts(workcontext.get("skills")))
    level = _integer(_member(workcontext, "functionLevel").get("levelRank"))
    hours = _integer(_member(workcontext, "availability").get("hoursPerWeek"))
    parts = [
        _coverage("required-skills", _weighted(item.get("requiredSkills")), skills, 60),
        _coverage("optional-skills", _weighted(item.get("optionalSkills")), skills, 15),
        _level(_integer(item.get("levelMin")), _integer(item.get("levelMax")), level),
        _hours(_integer(item.get("hoursPerWeek")), hours),
    ]
    reasons = [reason for _, reason in filter(None, parts)]
    return sum(points for points, _ in filter(None, parts)), reasons


def in_audience(workcontext: dict[str, Any], item: dict[str, Any]) -> bool:
    audience = _member(item, "audience")
    employer = workcontext.get("worksFor")
    if audience.get("kind") == "all":
        return True
    if audience.get("kind") == "employed":  # everyone but a freelancer
        return isinstance(employer, str)
    organisations = _texts(audience.get("organisations"))
    return isinstance(employer, str) and employer in organisations


def _member(node: Any, name: str) -> dict:
    value = node.get(name) if isinstance(node, dict) else None
    return value if isinstance(value, dict) else {}


def _texts(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _integer(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _weighted(value: Any) -> dict[str, int]:
    """Skills as the feed gives them, a URI or ``{"skill": URI, "weight": 1-3}``,
    as URI -> weight; an entry of any other shape is left out."""
    weights: dict[str, int] = {}
    for entry in value if isinstance(value, list) else []:
        if isinstance(entry, str):
            skill, weight = entry, 1
        elif isinstance(entry, dict) and isinstance(entry.get("skill"), str):
            skill, weight = entry["skill"], _integer(entry.get("weight", 1))
        else:
            continue
        if weight is not None and 1 <= weight <= 3:
            weights[skill] = max(weight, weights.get(skill, 0))
    return weights


class AlertBook:
    """The pod's alert file. It reads the pod's content key: this module belongs to
    the pod package and the key never leaves it."""

    def __init__(self, pod: UnlockedPod):
        self._pod = pod
        self._path = pod.directory / FILE

    def state(self) -> dict[str, Any]:
        if not self._path.exists():
            return {"settings": {"frequency": "daily", "minScore": 50}, "cursor": 0,
                    "lastFetched": None, "alerts": []}
        blob = self._path.read_bytes()
        return json.loads(self._pod.open(blob, "alerts"))

    def settings(self) -> AlertSettings:
        raw = self.state()["settings"]
        return AlertSettings(raw["frequency"], raw["minScore"])

    def set_settings(self, settings: AlertSettings) -> None:
        if settings.problems():
            raise InvalidAlertSettings(settings.problems())
        with pod_lock(self._pod.directory):
            state = self.state()
            state["settings"] = {"frequency": settings.frequency,
                                 "minScore": settings.min_score}
            self._write(state)

    def next_due(self) -> datetime | None:
        state = self.state()
        if state["lastFetched"] is None:
            return None
        return parse_time(state["lastFetched"], "lastFetched") + \
            FREQUENCIES[state["settings"]["frequency"]]

    def cursor(self) -> int:
        return self.state()["cursor"]

    def take(self, items: list[dict[str, Any]], cursor: int,
             now: datetime) -> list[dict]:
        """Match fetched assignments locally; keep those that fit well enough."""
        with pod_lock(self._pod.directory):
            state = self.state()
            document = self._pod.workcontext() or {}
            threshold = state["settings"]["minScore"]
            new = [a for a in (_alert(document, i, now) for i in items)
                   if a is not None and a["score"] >= threshold]
            # An assignment opened again comes again: its newest alert replaces
            # the one it had.
            again = {(a["organisation"], a["assignment"]) for a in new}
            kept = [a for a in state["alerts"]
                    if (a.get("organisation"), a.get("assignment")) not in again]
            state["alerts"] = (kept + new)[-MAX_ALERTS:]
            state["cursor"] = max(state["cursor"], cursor)
            state["lastFetched"] = format_time(now)
            self._write(state)
        return new

    def alerts(self) -> list[dict[str, Any]]:
        return self.state()["alerts"]

    def _write(self, state: dict) -> None:
        # Staged where the pod's writers sweep what a killed writer left (files.py).
        atomic_write(self._path, self._pod.seal(json.dumps(state).encode(), "alerts"),
                     staging=self._pod.directory / STAGING)


def _alert(document: dict, item: Any, now: datetime) -> dict | None:
    if not isinstance(item, dict) or not in_audience(document, item):
        return None
    score, reasons = fit(document, item)
    if score == 0:
        return None
    return {"assignment": _integer(item.get("id")),
            "organisation": _text(item.get("organisation")),
            "title": _text(item.get("title")), "score": score, "reasons": reasons,
            "found": format_time(now)}


def _text(value: Any, limit: int = 200) -> str | None:
    return value[:limit] if isinstance(value, str) else None


def _coverage(code: str, wanted: dict[str, int], have: set, weight: int):
    if not wanted or not have:
        return None
    matched = sorted(set(wanted) & have)
    share = sum(wanted[s] for s in matched) / sum(wanted.values())
    points = round(weight * share)
    return points, {"code": code, "matched": matched, "of": len(wanted),
                    "points": points}


def _level(low, high, rank):
    if rank is None or (low is None and high is None):
        return None
    low, high = low or 1, high or 5
    distance = max(low - rank, rank - high, 0)
    points = {0: 15, 1: 7}.get(distance, 0)
    return points, {"code": "level-fit", "distance": distance, "points": points}


def _hours(needed, available):
    if not needed or needed < 0 or available is None:
        return None
    points = round(10 * min(1.0, available / needed))
    return points, {"code": "hours-fit", "available": available, "needed": needed,
                    "points": points}
