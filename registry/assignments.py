"""Assignments: the work an organisation needs people for, and its lifecycle.

An assignment is drafted, opened, paused (and opened again), filled and closed::

    draft ──open──> open <──open── paused
      │              │ └──pause──────^ │
      │              └──fill──> filled <┘
      └──────────close─────────> closed  (from any state but closed)

Candidates are ranked for draft, open and paused assignments (a draft can be tried
out before it is published); a filled or closed assignment's search is over.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from consent import format_time
from schemas.catalogue import FIELDS_OF_WORK
from schemas.dates import DAY_RANGE, day_in_range
from schemas.reference_organisations import SECTORS
from schemas.texts import (
    NO_HIDDEN,
    ONE_LINE,
    has_hidden_character,
    has_visible_character,
    is_one_line,
)

from . import limits
from .db import transaction, within
from .errors import AssignmentNotFound, InvalidAssignment, InvalidTransition
from .tables import Assignment, AssignmentPass, FeedSequence

T = Assignment.__table__
T_PASS = AssignmentPass.__table__
F = FeedSequence.__table__
CIRCLES = ("own", "neighbours", "province", "corop", "safety_region",
           "municipalities", "sector", "national")
MAX_SKILLS = 20
STATUSES = ("draft", "open", "paused", "filled", "closed")
TRANSITIONS = {
    "open": ("draft", "paused"),
    "pause": ("open",),
    "fill": ("open", "paused"),
    "close": ("draft", "open", "paused", "filled"),
}
TARGET = {"open": "open", "pause": "paused", "fill": "filled", "close": "closed"}
RANKABLE = ("draft", "open", "paused")


def require_rankable(assignment: "StoredAssignment", action: str) -> None:
    """Decisions on candidates follow the ranking: once an assignment is filled or
    closed, nobody is ranked, liked or passed for it any more."""
    if assignment.status not in RANKABLE:
        raise InvalidTransition(assignment.id, assignment.status, action)


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
    optional_weights: dict[str, int] = field(default_factory=dict)
    function_family: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    field_of_work: str | None = None
    location: str | None = None
    remote: bool = False
    circle_ref: str | None = None
    freelancers: bool = True

    def weight(self, uri: str) -> int:
        """A nice-to-have skill's weight, 1 (nice) to 3 (very welcome)."""
        return self.optional_weights.get(uri, 1)


@dataclass(frozen=True, slots=True)
class StoredAssignment:
    id: int
    organisation: str
    spec: AssignmentSpec
    status: str
    created: datetime

    def to_json(self) -> dict[str, Any]:
        s = self.spec
        return {
            "id": self.id, "organisation": self.organisation, "status": self.status,
            "title": s.title, "description": s.description,
            "requiredSkills": list(s.required_skills),
            "optionalSkills": [{"skill": uri, "weight": s.weight(uri)}
                               for uri in s.optional_skills],
            "functionFamily": s.function_family, "fieldOfWork": s.field_of_work,
            "levelMin": s.level_min, "levelMax": s.level_max,
            "hoursPerWeek": s.hours_per_week,
            "periodStart": _iso(s.period_start), "periodEnd": _iso(s.period_end),
            "location": s.location, "remote": s.remote, "circle": s.circle,
            "circleSector": s.circle_ref, "freelancers": s.freelancers,
            "created": format_time(self.created),
        }


def check_spec(spec: AssignmentSpec, reference) -> None:
    """All problems at once (NL API design rule /core/error-handling/all-errors)."""
    problems = _text_problems(spec) + _skill_problems(spec, reference)
    problems += _level_and_time_problems(spec) + _place_problems(spec, reference)
    if problems:
        raise InvalidAssignment(problems)


def _text_problems(spec: AssignmentSpec) -> list[str]:
    problems = []
    if not (1 <= len(spec.title.strip()) <= 200
            and has_visible_character(spec.title)):
        problems.append("title must be 1 to 200 characters, one of them visible")
    elif not is_one_line(spec.title):
        problems.append(f"title {ONE_LINE}")
    elif has_hidden_character(spec.title):
        problems.append(f"title {NO_HIDDEN}")
    if len(spec.description) > 5000:
        problems.append("description must be at most 5000 characters")
    for name in ("function_family", "field_of_work"):
        value = getattr(spec, name)
        if value is not None and value not in FIELDS_OF_WORK:
            problems.append(f"{name} must be one of " + ", ".join(FIELDS_OF_WORK))
    return problems


def _skill_problems(spec: AssignmentSpec, reference) -> list[str]:
    problems = []
    if not 1 <= len(spec.required_skills) <= MAX_SKILLS:
        problems.append(f"requiredSkills must name 1 to {MAX_SKILLS} ESCO skills")
    if len(spec.optional_skills) > MAX_SKILLS:
        problems.append(f"optionalSkills must name at most {MAX_SKILLS} ESCO skills")
    named = (*spec.required_skills, *spec.optional_skills)
    for uri in named:
        if not reference.has_skill(uri):
            problems.append(f"{uri} is not a known ESCO skill")
    # A skill named twice (in one list, or as required and optional) would be
    # scored twice and stored as written; it is one requirement, said once.
    twice = sorted({uri for uri in named if named.count(uri) > 1})
    if twice:
        problems.append("named more than once in requiredSkills and optionalSkills: "
                        + ", ".join(twice))
    for uri, weight in spec.optional_weights.items():
        if uri not in spec.optional_skills or weight not in (1, 2, 3):
            problems.append("an optional skill's weight must be 1, 2 or 3 and name "
                            "one of optionalSkills")
    return problems


def _level_and_time_problems(spec: AssignmentSpec) -> list[str]:
    problems = []
    for name in ("level_min", "level_max"):
        value = getattr(spec, name)
        if value is not None and not 1 <= value <= 5:
            problems.append(f"{name} must be from 1 to 5")
    if spec.level_min and spec.level_max and spec.level_min > spec.level_max:
        problems.append("level_min must not exceed level_max")
    if spec.hours_per_week is not None and not 1 <= spec.hours_per_week <= 40:
        problems.append("hoursPerWeek must be from 1 to 40")
    for name, day in (("periodStart", spec.period_start),
                      ("periodEnd", spec.period_end)):
        if day is not None and not day_in_range(day):
            problems.append(f"{name} must be a day {DAY_RANGE}")
    if (spec.period_start is None) != (spec.period_end is None):
        problems.append("periodStart and periodEnd must be given together")
    elif spec.period_start and spec.period_start > spec.period_end:
        problems.append("periodStart must not be after periodEnd")
    return problems


def _place_problems(spec: AssignmentSpec, reference) -> list[str]:
    problems = []
    if spec.circle not in CIRCLES:
        problems.append("circle must be one of " + ", ".join(CIRCLES))
    if spec.location is not None and not reference.is_municipality(spec.location):
        problems.append("location must be the CBS code of a municipality")
    if spec.circle in ("corop", "safety_region") and spec.location is None:
        problems.append(f"a {spec.circle} circle needs a location")
    if (spec.circle == "sector") != (spec.circle_ref is not None):
        problems.append("circleSector must be given exactly when circle is sector")
    elif spec.circle_ref is not None and spec.circle_ref not in SECTORS:
        problems.append("circleSector must be one of " + ", ".join(SECTORS))
    return problems


class Assignments:
    def __init__(self, engine: Engine, reference):
        self._engine = engine
        self._reference = reference

    def create(self, organisation: str, spec: AssignmentSpec, now: datetime,
               status: str = "open") -> StoredAssignment:
        if spec.location is None and self._reference.is_municipality(organisation):
            spec = _with_location(spec, organisation)
        check_spec(spec, self._reference)
        if status not in ("draft", "open"):
            raise InvalidAssignment(
                ["status of a new assignment must be draft or open"])
        with transaction(self._engine) as conn:
            own = T.c.organisation == organisation
            limits.check_room(conn, (T, own, T.c.status != "closed"),
                              limits.MAX_UNCLOSED_ASSIGNMENTS,
                              "assignments that are not closed per organisation",
                              owner=organisation)
            limits.check_room(conn, (T, own), limits.MAX_ASSIGNMENTS,
                              "assignments per organisation", owner=organisation)
            result = conn.execute(insert(T).values(
                organisation=organisation, status=status, created=now,
                opened=next_feed_position(conn) if status == "open" else None,
                **_columns(spec)))
        return self.get(organisation, result.inserted_primary_key[0])

    def get(self, organisation: str, assignment_id: int,
            conn: Connection | None = None) -> StoredAssignment:
        """``conn``: the caller's transaction, if it has one (``db.within``)."""
        with within(self._engine, conn) as conn:
            row = conn.execute(select(T).where(
                T.c.id == assignment_id, T.c.organisation == organisation)).first()
        if row is None:
            raise AssignmentNotFound(assignment_id)
        return _stored(row)

    def list(self, organisation: str, limit: int | None = None,
             after: int = 0) -> list[StoredAssignment]:
        """The organisation's assignments by id after ``after``; ``limit`` rows at
        most (all of them without one: the ceilings in ``limits`` bound them)."""
        query = select(T).where(T.c.organisation == organisation,
                                T.c.id > after).order_by(T.c.id)
        if limit is not None:
            query = query.limit(limit)
        with transaction(self._engine) as conn:
            rows = conn.execute(query).all()
        return [_stored(r) for r in rows]

    def transition(self, organisation: str, assignment_id: int, action: str,
                   now: datetime) -> StoredAssignment:
        """Move along the lifecycle; a compare-and-set on the status, so that two
        project leaders acting at once can not both succeed from one state."""
        if action not in TRANSITIONS:
            raise InvalidAssignment(["action must be one of " + ", ".join(TRANSITIONS)])
        current = self.get(organisation, assignment_id)
        if current.status not in TRANSITIONS[action]:
            raise InvalidTransition(assignment_id, current.status, action)
        with transaction(self._engine) as conn:
            # Opened (from a draft or after a pause), it takes a new place at the
            # end of the feed, so pods that read past its old place fetch it.
            reopened = ({"opened": next_feed_position(conn)}
                        if TARGET[action] == "open" else {})
            moved = conn.execute(update(T).where(
                T.c.id == assignment_id, T.c.status == current.status).values(
                status=TARGET[action], updated=now, **reopened)).rowcount
        if moved != 1:
            raise InvalidTransition(assignment_id, current.status, action)
        return self.get(organisation, assignment_id)

    def pass_on(self, organisation: str, assignment_id: int, pseudonym: str,
                now: datetime, conn: Connection | None = None) -> None:
        """Leave this candidate out of this assignment's later lists (idempotent);
        in the caller's transaction ``conn`` when it gives one."""
        require_rankable(self.get(organisation, assignment_id), "pass candidates for")
        with within(self._engine, conn) as conn:
            known = conn.execute(select(T_PASS.c.pseudonym).where(
                T_PASS.c.assignment_id == assignment_id,
                T_PASS.c.pseudonym == pseudonym)).first()
            if known is None:
                limits.check_room(conn, (T_PASS, T_PASS.c.assignment_id ==
                                         assignment_id),
                                  limits.MAX_PASSES_PER_ASSIGNMENT,
                                  "passed candidates per assignment",
                                  str(assignment_id))
                conn.execute(insert(T_PASS).values(
                    assignment_id=assignment_id, pseudonym=pseudonym, created=now))

    def bring_back(self, assignment_id: int, pseudonym: str, conn: Connection) -> None:
        """The candidate appears in this assignment's lists again (a pass undone,
        or a like that overrides it)."""
        conn.execute(delete(T_PASS).where(T_PASS.c.assignment_id == assignment_id,
                                          T_PASS.c.pseudonym == pseudonym))

    def passed(self, assignment_id: int,
               conn: Connection | None = None) -> frozenset[str]:
        with within(self._engine, conn) as conn:
            return frozenset(conn.execute(select(T_PASS.c.pseudonym).where(
                T_PASS.c.assignment_id == assignment_id)).scalars())


def next_feed_position(conn) -> int:
    """The next place in the feed. The counter row is updated before it is read,
    so it stays locked until this transaction commits and a concurrent opening
    waits for it: places become visible in the order they were taken."""
    taken = conn.execute(update(F).where(F.c.id == 1).values(
        position=F.c.position + 1)).rowcount
    if taken == 0:  # a schema made without the migrations' first row
        start = conn.execute(select(func.coalesce(func.max(T.c.opened), 0))
                             ).scalar_one()
        conn.execute(insert(F).values(id=1, position=start + 1))
    return conn.execute(select(F.c.position).where(F.c.id == 1)).scalar_one()


def _with_location(spec: AssignmentSpec, location: str) -> AssignmentSpec:
    values = {name: getattr(spec, name) for name in AssignmentSpec.__slots__}
    values["location"] = location
    return AssignmentSpec(**values)


def _columns(spec: AssignmentSpec) -> dict[str, Any]:
    return dict(
        title=spec.title.strip(), description=spec.description,
        required_skills=json.dumps(list(spec.required_skills)),
        optional_skills=json.dumps(list(spec.optional_skills)),
        optional_weights=json.dumps(spec.optional_weights, sort_keys=True),
        function_family=spec.function_family, level_min=spec.level_min,
        level_max=spec.level_max, hours_per_week=spec.hours_per_week,
        period_start=spec.period_start, period_end=spec.period_end,
        field_of_work=spec.field_of_work, location=spec.location, remote=spec.remote,
        circle=spec.circle, circle_ref=spec.circle_ref, freelancers=spec.freelancers)


def _stored(row) -> StoredAssignment:
    spec = AssignmentSpec(
        title=row.title, description=row.description,
        required_skills=tuple(json.loads(row.required_skills)),
        optional_skills=tuple(json.loads(row.optional_skills)),
        optional_weights=json.loads(row.optional_weights),
        function_family=row.function_family, level_min=row.level_min,
        level_max=row.level_max, hours_per_week=row.hours_per_week,
        period_start=row.period_start, period_end=row.period_end,
        field_of_work=row.field_of_work, location=row.location,
        remote=bool(row.remote), circle=row.circle, circle_ref=row.circle_ref,
        freelancers=bool(row.freelancers))
    return StoredAssignment(row.id, row.organisation, spec, row.status, row.created)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
