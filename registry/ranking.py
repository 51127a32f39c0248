"""The ranking as one SQL query: score every candidate in the database and fetch
only the page (ORDER BY score, pseudonym, LIMIT, keyset cursor).

It computes the score of ``matching.Matcher`` (the table in that module) from the
same inputs, in integers, so that both give the same number: ``Matcher`` explains
the few candidates of a page, this query orders all of them. Its inputs are what
the gate hands out for ranking (``ConsentGate.rankable``): the visible disclosures
of holders with a visible wanted skill (or, for an assignment with a circle, with a
visible employer in it; only holders with a visible wanted skill are ranked). Skill
points come from the skill rows of those disclosures only, joined to the
assignment's skills expanded once through the ESCO hierarchy (a table of skill, slot
and points); the other parts are CASE expressions on the index columns, merged per
holder as the gate merges them (a later disclosure's value wins).

Known shortcoming: the gate's conditions are checked on rows of ``disclosure``,
which also carry the signed document and projection, and an assignment without a
circle starts from every visible disclosure holding a wanted or related skill. At
100,000 holders on a loaded two-core machine that took about a second per query
(bench/results/registry.json, with the plans), against a target of 15 ms. A
narrow table of the gate and index columns with the consented skills denormalised
(PostgreSQL ``int[]`` with a GIN index, a compact set on SQLite), filled at
ingest, would keep both the probe and the skill test off the document rows; this
query's shape would stay.
"""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import Date, Integer, String, Text, and_, case, cast, column, exists
from sqlalchemy import false, func, literal, null, or_, select, text, true, union_all

from .matching import Matcher, quarters
from .tables import AssignmentPass, DisclosureSkill, Holder

H = Holder.__table__
S = DisclosureSkill.__table__
PASS = AssignmentPass.__table__


def rank_query(matcher: Matcher, rankable, dialect: str, assignment_id: int,
               after: tuple[int, str] | None, limit: int | None):
    """The query that returns (pseudonym, score, total) for one page."""
    vis = rankable.cte("vis")
    holders = _per_holder(vis, _wanted(matcher, dialect), len(matcher.required),
                          dialect)
    c = holders.c
    spec = matcher.spec
    score = (
        _share(c.required, 50, matcher.required_total)
        + _share(c.optional, 10, matcher.optional_total)
        + _level(spec.level_min, spec.level_max, c.level_rank)
        + _hours(spec.hours_per_week, c.hours_per_week)
        + _period(spec.period_start, spec.period_end, c.available_from,
                  c.available_until, dialect)
        + _distance(matcher, c.employer_code)
    )
    passed = exists().where(PASS.c.assignment_id == assignment_id,
                            PASS.c.pseudonym == H.c.pseudonym)
    scored = (
        select(H.c.pseudonym, score.label("score"))
        .select_from(holders.join(H, H.c.did == c.holder_did))
        .where(c.hits > 0, _in_circle(matcher, c.employer_code), ~passed)
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


def _per_holder(vis, wanted, required: int, dialect: str):
    """One row per holder: skill points per part, and each index column from the
    latest visible disclosure that holds it (the period as a pair), as
    ``gate._merge_signals`` merges them.

    One GROUP BY over two kinds of rows: the best points per slot (the best over
    all the holder's visible disclosures, which is the best over the union of
    their skills), and the disclosures' columns, each prefixed with the
    disclosure's zero-padded sequence number so that MAX picks the latest.
    Measured: window functions per column (a sort each) and a join of two grouped
    subqueries (no index, a scan per holder) cost seconds at 100,000 holders."""
    best = (
        select(vis.c.holder_did, wanted.c.slot,
               func.max(wanted.c.points).label("points"))
        # "+ 0": drive the join from the wanted skills through the skill index
        # and probe the visible disclosures by id. Measured on SQLite at 100,000
        # holders: otherwise it scanned every visible disclosure once per wanted
        # skill (2-7 times slower).
        .select_from(vis.join(S, S.c.disclosure_id + 0 == vis.c.id)
                     .join(wanted, wanted.c.skill == S.c.skill))
        .group_by(vis.c.holder_did, wanted.c.slot)
    ).subquery("best")
    in_required = best.c.slot < required
    empty = [null().label(name) for name in _MERGED]
    sequence = _padded(vis.c.sequence, dialect)
    period = or_(vis.c.available_from.isnot(None), vis.c.available_until.isnot(None))
    rows = union_all(
        select(best.c.holder_did, literal(1).label("hits"),
               case((in_required, best.c.points), else_=0).label("required"),
               case((in_required, 0), else_=best.c.points).label("optional"),
               *empty),
        select(vis.c.holder_did, literal(0).label("hits"),
               literal(0).label("required"),
               literal(0).label("optional"),
               *(_stamped(sequence, vis.c[name], vis.c[name].isnot(None))
                 .label(name) for name in _MERGED[:3]),
               *(_stamped(sequence, vis.c[name], period).label(name)
                 for name in _MERGED[3:])),
    ).subquery("rows")
    r = rows.c
    return select(
        r.holder_did, func.sum(r.hits).label("hits"),
        func.sum(r.required).label("required"),
        func.sum(r.optional).label("optional"),
        _unstamped(func.max(r.employer_code), String, dialect).label("employer_code"),
        _unstamped(func.max(r.level_rank), Integer, dialect).label("level_rank"),
        _unstamped(func.max(r.hours_per_week), Integer, dialect)
        .label("hours_per_week"),
        _unstamped(func.max(r.available_from), Date, dialect).label("available_from"),
        _unstamped(func.max(r.available_until), Date, dialect)
        .label("available_until"),
    ).group_by(r.holder_did).subquery("holders")


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
