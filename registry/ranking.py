"""The ranking as one SQL query: score every candidate in the database and fetch
only the page (ORDER BY score, pseudonym, LIMIT, keyset cursor).

It computes the score of ``matching.Matcher`` (the table in that module) from the
same inputs, in integers, so that both give the same number: ``Matcher`` explains
the few candidates of a page, this query orders all of them. Its inputs are what
the gate hands out for ranking (``ConsentGate.rankable``): the visible disclosures
of holders with a visible wanted skill. Skill points come from the skill rows of
those disclosures only, joined to the assignment's skills expanded once through the
ESCO hierarchy (a VALUES table of skill, slot and points); the other parts are CASE
expressions on the index columns, merged per holder as the gate merges them (a
later disclosure's value wins), with window functions that both dialects have.

Measured (bench/registry_bench.py) on SQLite and PostgreSQL; the plans are in
bench/results/registry.json.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Integer, String, and_, case, cast, column, exists, false, func
from sqlalchemy import literal, or_, select, true, values

from .matching import Matcher, quarters
from .tables import AssignmentPass, DisclosureSkill, Holder

H = Holder.__table__
S = DisclosureSkill.__table__
PASS = AssignmentPass.__table__


def rank_query(matcher: Matcher, rankable, dialect: str, assignment_id: int,
               after: tuple[int, str] | None, limit: int | None):
    """The query that returns (pseudonym, score, total) for one page."""
    vis = rankable.cte("vis")
    wanted = _wanted(matcher)
    parts = _skill_points(vis, wanted, len(matcher.required))
    merged = _merged(vis)
    spec = matcher.spec
    score = (
        _share(func.coalesce(parts.c.required, 0), 50, matcher.required_total)
        + _share(func.coalesce(parts.c.optional, 0), 10, matcher.optional_total)
        + _level(spec.level_min, spec.level_max, merged.c.level_rank)
        + _hours(spec.hours_per_week, merged.c.hours_per_week)
        + _period(spec.period_start, spec.period_end, merged.c.available_from,
                  merged.c.available_until, dialect)
        + _distance(matcher, merged.c.employer_code)
    )
    passed = exists().where(PASS.c.assignment_id == assignment_id,
                            PASS.c.pseudonym == H.c.pseudonym)
    scored = (
        select(H.c.pseudonym, score.label("score"))
        .select_from(merged.join(H, H.c.did == merged.c.holder_did)
                     .outerjoin(parts, parts.c.holder_did == merged.c.holder_did))
        .where(merged.c.first == 1, _in_circle(matcher, merged.c.employer_code),
               ~passed)
    ).subquery("scored")
    counted = select(scored.c.pseudonym, scored.c.score,
                     func.count().over().label("total")).where(
        scored.c.score > 0).subquery("counted")
    query = select(counted).order_by(counted.c.score.desc(), counted.c.pseudonym)
    if after is not None:
        score_after, pseudonym_after = after
        query = query.where(or_(counted.c.score < score_after, and_(
            counted.c.score == score_after, counted.c.pseudonym > pseudonym_after)))
    return query.limit(limit) if limit is not None else query


def _wanted(matcher: Matcher):
    """One row per (related skill, slot): a slot is one wanted skill; its points are
    the relation's quarters times the skill's weight."""
    rows = []
    for slot, (uri, related) in enumerate(matcher.slots()):
        weight = matcher.slot_weight(slot, uri)
        rows += [(skill, slot, quarters(relation) * weight)
                 for skill, relation in related.items()]
    return values(column("skill", String), column("slot", Integer),
                  column("points", Integer), name="wanted").data(rows).cte("wanted")


def _skill_points(vis, wanted, required: int):
    """Per holder, the best points per slot (over all their visible disclosures,
    which is the best over the union of their skills), summed per part."""
    best = (
        select(vis.c.holder_did, wanted.c.slot,
               func.max(wanted.c.points).label("points"))
        .select_from(vis.join(S, S.c.disclosure_id == vis.c.id)
                     .join(wanted, wanted.c.skill == S.c.skill))
        .group_by(vis.c.holder_did, wanted.c.slot)
    ).subquery("best")
    in_required = best.c.slot < required
    return (
        select(best.c.holder_did,
               func.sum(case((in_required, best.c.points), else_=0)).label("required"),
               func.sum(case((in_required, 0), else_=best.c.points)).label("optional"))
        .group_by(best.c.holder_did)
    ).subquery("parts")


def _merged(vis):
    """One row per holder (``first``), each column from the latest disclosure that
    holds it; the period as a pair, as ``gate._merge_signals`` merges it."""
    def latest(*columns):
        missing = and_(*(c.is_(None) for c in columns))
        return dict(partition_by=vis.c.holder_did,
                    order_by=(missing, vis.c.sequence.desc()))

    period = latest(vis.c.available_from, vis.c.available_until)
    return select(
        vis.c.holder_did,
        func.first_value(vis.c.employer_code).over(**latest(vis.c.employer_code))
        .label("employer_code"),
        func.first_value(vis.c.level_rank).over(**latest(vis.c.level_rank))
        .label("level_rank"),
        func.first_value(vis.c.hours_per_week).over(**latest(vis.c.hours_per_week))
        .label("hours_per_week"),
        func.first_value(vis.c.available_from).over(**period).label("available_from"),
        func.first_value(vis.c.available_until).over(**period)
        .label("available_until"),
        func.row_number().over(partition_by=vis.c.holder_did,
                               order_by=vis.c.sequence).label("first"),
    ).subquery("merged")


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
