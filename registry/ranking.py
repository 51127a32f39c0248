"""The ranking as one SQL query: score every candidate in the database and fetch
only the page (ORDER BY score, pseudonym, LIMIT, keyset cursor).

It computes the score of ``matching.Matcher`` (the table in that module) from the
same inputs, in integers, so that both give the same number: ``Matcher`` explains
the few candidates of a page, this query orders all of them. Its inputs are what
the gate hands out for ranking (``ConsentGate.rankable``): the match index rows
under the requester's reach keys (``registry.tables_match``). The assignment's
skills are expanded once through the ESCO hierarchy into a small table of (skill,
slot, points); the query walks the skill index from those skills and the
requester's keys to the candidates holding any of them, takes the best points per
slot, then reads each candidate's visible index rows by pseudonym and merges them
as the gate merges them (a later disclosure's value wins). The other parts of the
score are CASE expressions on the merged columns.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import Date, Integer, String, Text, and_, case, cast, column, exists
from sqlalchemy import false, func, literal, null, or_, select, text, true

from .gate import Rankable
from .matching import Matcher, quarters
from .tables import AssignmentPass
from .tables_match import MatchDisclosure, MatchSkill, MatchTerm

PASS = AssignmentPass.__table__
TERM = MatchTerm.__table__
MD = MatchDisclosure.__table__
MS = MatchSkill.__table__


def rank_query(matcher: Matcher, rankable: Rankable, dialect: str,
               assignment_id: int, after: tuple[int, str] | None,
               limit: int | None):
    """The query that returns (pseudonym, score, total) for one page."""
    points = _points(rankable, _wanted(matcher, dialect), len(matcher.required),
                     matcher.members).cte("points")
    skill = (_share(points.c.required, 50, matcher.required_total)
             + _share(points.c.optional, 10, matcher.optional_total))
    passed = exists().where(PASS.c.assignment_id == assignment_id,
                            PASS.c.pseudonym == points.c.pseudonym)
    bounded = (limit is not None and after is None and matcher.members is None
               and matcher.spec.freelancers)
    keep = _could_make_the_page(points, skill, ~passed, limit) if bounded else None
    holders = _merged(points, skill, rankable.rows.subquery("vis_row"), keep,
                      dialect)
    c = holders.c
    spec = matcher.spec
    score = (
        c.skill
        + _level(spec.level_min, spec.level_max, c.level_rank)
        + _hours(spec.hours_per_week, c.hours_per_week)
        + _period(spec.period_start, spec.period_end, c.available_from,
                  c.available_until, dialect)
        + _distance(matcher, c.employer_code)
    )
    left_out = exists().where(PASS.c.assignment_id == assignment_id,
                              PASS.c.pseudonym == c.pseudonym)
    scored = (
        select(c.pseudonym, c.skill, score.label("score"))
        .where(_in_circle(matcher, c.employer_code), ~left_out)
    ).subquery("scored")
    if bounded:
        # Everyone not passed with skill points scores above 0 (no circle, so
        # nobody is out of it); of those without, the merged rows tell.
        sure = select(func.count()).select_from(points).where(
            skill > 0, ~passed).scalar_subquery()
        total = sure + func.sum(case((scored.c.skill == 0, 1), else_=0)).over()
    else:
        total = func.count().over()
    counted = select(scored.c.pseudonym, scored.c.score, total.label("total")).where(
        scored.c.score > 0).subquery("counted")
    query = select(counted).order_by(counted.c.score.desc(), counted.c.pseudonym)
    if after is not None:
        score_after, pseudonym_after = after
        query = query.where(or_(counted.c.score < score_after, and_(
            counted.c.score == score_after, counted.c.pseudonym > pseudonym_after)))
    return query.limit(limit) if limit is not None else query


# The most points the parts other than skills can add: level 15, hours 10,
# period 10, distance 5 (the table in ``registry.matching``).
OTHER_PARTS_MAX = 15 + 10 + 10 + 5


def _could_make_the_page(points, skill, not_passed, limit: int):
    """Candidates that can still be on the first page of ``limit``: the ``limit``
    best by skill points score at least the ``limit``-th best skill points (T), so
    one whose skill points plus every other part's maximum stay below T ranks
    below all of them. Only the others are merged and scored; those without skill
    points are kept too, since only their merged rows say whether they score.
    Fewer than ``limit`` candidates: T is NULL and everyone is kept."""
    threshold = (select(skill).select_from(points).where(not_passed)
                 .order_by(skill.desc()).limit(1).offset(limit - 1)
                 .scalar_subquery())
    return or_(skill + OTHER_PARTS_MAX >= func.coalesce(threshold, 0), skill == 0)


def _wanted(matcher: Matcher, dialect: str):
    """One row per (related skill, slot): a slot is one wanted skill; its points are
    the relation's quarters times the skill's weight. The rows travel as one JSON
    parameter, so the statement's text is the same for every assignment and its
    compiled form is reused (measured: compiling a VALUES list of a hundred rows
    cost more than running the query)."""
    rows = []
    for slot, (uri, related) in enumerate(matcher.slots()):
        weight = matcher.slot_weight(slot, uri)
        rows += [[skill, slot, quarters(relation) * weight]
                 for skill, relation in related.items()]
    table = text(_WANTED[dialect == "postgresql"]).bindparams(
        wanted=json.dumps(rows, separators=(",", ":")))
    return table.columns(column("skill", String), column("slot", Integer),
                         column("points", Integer)).cte("wanted")


_WANTED = (
    "SELECT json_extract(value, '$[0]') AS skill, json_extract(value, '$[1]') AS slot,"
    " json_extract(value, '$[2]') AS points FROM json_each(:wanted)",
    "SELECT e ->> 0 AS skill, CAST(e ->> 1 AS INTEGER) AS slot,"
    " CAST(e ->> 2 AS INTEGER) AS points"
    " FROM jsonb_array_elements(CAST(:wanted AS JSONB)) AS e",
)


def _points(rankable: Rankable, wanted, required: int,
            members: frozenset[str] | None):
    """One row per candidate (a holder with a visible wanted skill): the skill
    points of the required and of the nice-to-have skills, in quarters.

    ``best`` is the best points per slot (the best over all the holder's visible
    disclosures, which is the best over the union of their skills)."""
    ids = (select(TERM.c.id.label("skill"), wanted.c.slot, wanted.c.points)
           .join_from(wanted, TERM, TERM.c.term == wanted.c.skill)).subquery("ids")
    best = (_placed_skills(rankable, ids, members) if _small(members)
            else _wanted_skills(rankable, ids)).subquery("best")
    in_required = best.c.slot < required
    return select(
        best.c.pseudonym,
        func.sum(case((in_required, best.c.points), else_=0)).label("required"),
        func.sum(case((in_required, 0), else_=best.c.points)).label("optional"),
    ).group_by(best.c.pseudonym)


def _merged(points, skill, vis, keep, dialect: str):
    """Each candidate (of those ``keep`` admits) with its skill points and each
    index column from the latest visible disclosure that holds it (the period as
    a pair), as ``gate._merge_signals`` merges them: every column is prefixed
    with the disclosure's zero-padded sequence number, so that MAX picks the
    latest. Measured: window functions per column (a sort each) and a join of
    two grouped subqueries (a scan per holder) cost seconds at 100,000 holders."""
    sequence = _padded(vis.c.sequence, dialect)
    period = or_(vis.c.available_from.isnot(None), vis.c.available_until.isnot(None))
    stamped = {name: func.max(_stamped(sequence, vis.c[name], vis.c[name].isnot(None)))
               for name in _MERGED[:3]}
    stamped |= {name: func.max(_stamped(sequence, vis.c[name], period))
                for name in _MERGED[3:]}
    kinds = (String, Integer, Integer, Date, Date)
    query = (
        select(points.c.pseudonym, skill.label("skill"),
               *(_unstamped(stamped[name], kind, dialect).label(name)
                 for name, kind in zip(_MERGED, kinds)))
        .join_from(points, vis, vis.c.pseudonym == points.c.pseudonym)
        .group_by(points.c.pseudonym, points.c.required, points.c.optional))
    if keep is not None:
        query = query.where(keep)
    return query.subquery("holders")


# A circle of at most this many organisations starts from the holders placed in
# it; a wider one (or none) from the wanted skills. Measured at 100,000 holders
# on SQLite (medians of 16-36 assignments, load 9-11): starting from the placed
# holders was faster for every circle kind up to a province of 57 organisations
# (neighbours 108 against 202 ms, province 385 against 448 ms) and slower for
# all 342 municipalities (234 against 215 ms).
SMALL_CIRCLE = 100


def _small(members: frozenset[str] | None) -> bool:
    return members is not None and len(members) <= SMALL_CIRCLE


def _wanted_skills(rankable: Rankable, ids):
    """The best points per (holder, slot), walked from the wanted skills' ids and
    the requester's keys through the primary key of ``match_skill``."""
    skills = rankable.skills.subquery("vis_skill")
    return (
        select(skills.c.pseudonym, ids.c.slot, func.max(ids.c.points).label("points"))
        .join_from(ids, skills, skills.c.skill == ids.c.skill)
        .group_by(skills.c.pseudonym, ids.c.slot))


def _placed_skills(rankable: Rankable, ids, members: frozenset[str]):
    """The same for holders with a visible disclosure naming an employer in a small
    circle (a superset of those whose merged employer is in it), walked from their
    visible index rows to the skill rows of the same disclosure and reach key."""
    rows = rankable.rows.subquery("placed_rows")
    placed = select(rows.c.pseudonym).where(rows.c.employer_code.in_(sorted(members)))
    vis = rankable.rows.where(MD.c.pseudonym.in_(placed)).subquery("vis_placed")
    # Materialised, so that the planner walks from the placed holders' rows to
    # their skills and not from every wanted skill to every placed holder
    # (measured on SQLite: the flattened join took that order, seconds per query).
    held = (select(vis.c.pseudonym, MS.c.skill)
            .join_from(vis, MS, and_(MS.c.disclosure_id == vis.c.disclosure_id,
                                     MS.c.reach == vis.c.reach))
            .cte("held").prefix_with("MATERIALIZED"))
    return (
        select(held.c.pseudonym, ids.c.slot, func.max(ids.c.points).label("points"))
        .join_from(ids, held, held.c.skill == ids.c.skill)
        .group_by(held.c.pseudonym, ids.c.slot))


_MERGED = ("employer_code", "level_rank", "hours_per_week", "available_from",
           "available_until")
_STAMP = 20  # digits of a zero-padded sequence number (at most 2**53 - 1)


def _padded(sequence, dialect: str):
    if dialect == "postgresql":
        return func.lpad(cast(sequence, Text), _STAMP, "0")
    return func.printf(f"%0{_STAMP}d", sequence)


def _stamped(sequence, value, present):
    """The sequence and the value as one text that sorts by sequence; NULL where
    the disclosure does not hold the value (an empty text for half a period)."""
    text = func.coalesce(cast(value, Text), "")
    return case((present, sequence.concat(text)), else_=null())


def _unstamped(stamped, kind, dialect: str):
    text = func.nullif(func.substr(stamped, _STAMP + 1), "")
    if kind is String or (kind is Date and dialect != "postgresql"):
        return text  # SQLite keeps dates as ISO text, which julianday reads
    return cast(text, kind)


def _share(got, weight: int, total: int):
    """round_half_up(weight * got / (4 * total)) in integers (got in quarters)."""
    if total == 0:
        return literal(0)
    return (2 * weight * got + 4 * total) // (8 * total)


def _level(low: int | None, high: int | None, rank_):
    if low is None and high is None:
        return literal(0)
    low, high = low or 1, high or 5
    return case((rank_.is_(None), 0), (and_(rank_ >= low, rank_ <= high), 15),
                (or_(rank_ == low - 1, rank_ == high + 1), 7), else_=0)


def _hours(needed: int | None, available):
    if needed is None:
        return literal(0)
    return case((available.is_(None), 0), (available >= needed, 10),
                else_=(20 * available + needed) // (2 * needed))


def _period(start: date | None, end: date | None, free_from, free_until,
            dialect: str):
    if start is None or end is None:
        return literal(0)
    days = (end - start).days + 1
    lo = case((free_from.is_(None), 0), (_days(free_from, start, dialect) < 0, 0),
              else_=_days(free_from, start, dialect))
    hi = case((free_until.is_(None), days - 1),
              (_days(free_until, start, dialect) > days - 1, days - 1),
              else_=_days(free_until, start, dialect))
    overlap = case((hi - lo + 1 < 0, 0), else_=hi - lo + 1)
    return case((and_(free_from.is_(None), free_until.is_(None)), 0),
                else_=(20 * overlap + days) // (2 * days))


def _days(value, origin: date, dialect: str):
    """Whole days from ``origin`` to the date column ``value``."""
    if dialect == "postgresql":
        return value - literal(origin)
    return cast(func.julianday(value) - func.julianday(origin.isoformat()), Integer)


def _distance(matcher: Matcher, employer):
    near, region = matcher.distance_bands()
    if not near and not region:
        return literal(0)
    bands = []
    if near:
        bands.append((employer.in_(sorted(near)), 5))
    if region:
        bands.append((employer.in_(sorted(region)), 3))
    return case(*bands, else_=0)


def _in_circle(matcher: Matcher, employer):
    members = matcher.members
    if members is None:
        return or_(employer.isnot(None), true() if matcher.spec.freelancers
                   else false())
    return employer.in_(sorted(members)) if members else false()
