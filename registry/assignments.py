"""Assignments: the work an organisation needs people for."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from .db import transaction
from .errors import AssignmentNotFound, InvalidAssignment
from .tables import Assignment

T = Assignment.__table__
CIRCLES = ("own", "neighbours", "province", "national")
MAX_SKILLS = 20


@dataclass(frozen=True, slots=True)
class AssignmentSpec:
    title: str
    description: str
    required_skills: tuple[str, ...]
    optional_skills: tuple[str, ...] = ()
    level_min: int | None = None
    level_max: int | None = None
    hours_per_week: int | None = None
    circle: str = "national"


@dataclass(frozen=True, slots=True)
class StoredAssignment:
    id: int
    organisation: str
    spec: AssignmentSpec
    status: str
    created: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "organisation": self.organisation, "status": self.status,
            "title": self.spec.title, "description": self.spec.description,
            "requiredSkills": list(self.spec.required_skills),
            "optionalSkills": list(self.spec.optional_skills),
            "levelMin": self.spec.level_min, "levelMax": self.spec.level_max,
            "hoursPerWeek": self.spec.hours_per_week, "circle": self.spec.circle,
            "created": self.created.isoformat(),
        }


def check_spec(spec: AssignmentSpec, known_skill) -> None:
    """All problems at once (NL API design rule /core/error-handling/all-errors)."""
    problems = []
    if not 1 <= len(spec.title.strip()) <= 200:
        problems.append("title must be 1 to 200 characters")
    if len(spec.description) > 5000:
        problems.append("description must be at most 5000 characters")
    if not 1 <= len(spec.required_skills) <= MAX_SKILLS:
        problems.append(f"requiredSkills must name 1 to {MAX_SKILLS} ESCO skills")
    if len(spec.optional_skills) > MAX_SKILLS:
        problems.append(f"optionalSkills must name at most {MAX_SKILLS} ESCO skills")
    for uri in (*spec.required_skills, *spec.optional_skills):
        if not known_skill(uri):
            problems.append(f"{uri} is not a known ESCO skill")
    for name in ("level_min", "level_max"):
        value = getattr(spec, name)
        if value is not None and not 1 <= value <= 5:
            problems.append(f"{name} must be from 1 to 5")
    if spec.level_min and spec.level_max and spec.level_min > spec.level_max:
        problems.append("level_min must not exceed level_max")
    if spec.hours_per_week is not None and not 1 <= spec.hours_per_week <= 40:
        problems.append("hoursPerWeek must be from 1 to 40")
    if spec.circle not in CIRCLES:
        problems.append("circle must be one of " + ", ".join(CIRCLES))
    if problems:
        raise InvalidAssignment(problems)


class Assignments:
    def __init__(self, engine: Engine, known_skill):
        self._engine = engine
        self._known_skill = known_skill

    def create(self, organisation: str, spec: AssignmentSpec, now: datetime) -> StoredAssignment:
        check_spec(spec, self._known_skill)
        with transaction(self._engine) as conn:
            result = conn.execute(insert(T).values(
                organisation=organisation, title=spec.title.strip(),
                description=spec.description,
                required_skills=json.dumps(list(spec.required_skills)),
                optional_skills=json.dumps(list(spec.optional_skills)),
                level_min=spec.level_min, level_max=spec.level_max,
                hours_per_week=spec.hours_per_week, circle=spec.circle,
                status="open", created=now))
        return self.get(organisation, result.inserted_primary_key[0])

    def get(self, organisation: str, assignment_id: int) -> StoredAssignment:
        with transaction(self._engine) as conn:
            row = conn.execute(select(T).where(
                T.c.id == assignment_id, T.c.organisation == organisation)).first()
        if row is None:
            raise AssignmentNotFound(assignment_id)
        return _stored(row)

    def list(self, organisation: str) -> list[StoredAssignment]:
        with transaction(self._engine) as conn:
            rows = conn.execute(select(T).where(T.c.organisation == organisation)
                                .order_by(T.c.id)).all()
        return [_stored(r) for r in rows]


def _stored(row) -> StoredAssignment:
    spec = AssignmentSpec(
        title=row.title, description=row.description,
        required_skills=tuple(json.loads(row.required_skills)),
        optional_skills=tuple(json.loads(row.optional_skills)),
        level_min=row.level_min, level_max=row.level_max,
        hours_per_week=row.hours_per_week, circle=row.circle)
    return StoredAssignment(row.id, row.organisation, spec, row.status, row.created)
