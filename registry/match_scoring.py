"""The score of ``matching.Matcher`` for every candidate at once, on the in-memory
match index (``registry.match_memory``), in integer arrays.

The inputs are what the gate hands out for ranking (``ConsentGate.rankable``):
the requester's reach key ids and the time. A candidate is a holder with a
visible disclosure that holds one of the wanted skills (a skill related to a
required or nice-to-have one). Per slot (one wanted skill) the best points over
the candidate's visible skills; the other parts on each index column taken from
the latest visible disclosure that holds it (the period as a pair), as the gate
merges them (``gate._merge_signals``). Same integers as ``Matcher``: points are
rounded half up, skill points counted in quarters. Order: score, then the
requesting organisation's tie key of the pseudonym (``org_pseudonyms.tie_keys``:
the registry's own order of ties would be the same for every organisation); the
cursor is a keyset position in that order. Tie keys are made only for the
candidates that can reach the page and for those tied with the cursor.

For one page, every candidate's skill points are counted (they decide the total),
but only the candidates whose best possible score reaches the page are merged and
scored in full (``_reachable``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np

from .gate import Rankable
from .match_memory import EMPLOYER, HOURS, LEVEL, NO_DAY, PERIOD, MatchIndex, day
from .match_memory import micros
from .matching import Matcher, quarters


@dataclass(frozen=True, slots=True)
class Ranking:
    page: list[tuple[str, int]]  # (pseudonym, score)
    total: int  # candidates in the whole ranking


# The organisation's tie keys of pseudonyms, 16 bytes each, one after the other
# (``OrgPseudonyms.tie_keys`` for the requester's organisation).
TieKeys = Callable[[bytes], bytes]


def rank(index: MatchIndex, matcher: Matcher, rankable: Rankable,
         passed: frozenset[str], after: tuple[int, str] | None,
         limit: int | None, ties: TieKeys) -> Ranking:
    """The page after ``after`` (of ``limit``, or all of it) and the total."""
    field = _field(index, matcher, rankable, passed)
    if limit is None:
        total, pids, scores = _everyone(field)
    else:
        total, pids, scores = _reachable(field, after, limit, ties)
    if after is not None:
        later = _after(index, pids, scores, after, ties)
        pids, scores = pids[later], scores[later]
    if limit is not None and len(scores) > limit:
        threshold = np.partition(scores, len(scores) - limit)[len(scores) - limit]
        top = scores >= threshold
        pids, scores = pids[top], scores[top]
    # Names and tie keys only of the candidates that can reach the page (the ties
    # at its boundary included): gathering every candidate's took milliseconds.
    names = index.pseudonym[pids]
    high, low = _tie_keys(ties, names)
    order = np.lexsort((low, high, -scores))
    if limit is not None:
        order = order[:limit]
    return Ranking([(names[i].decode("ascii"), int(scores[i])) for i in order],
                   total)


def _tie_keys(ties: TieKeys, names: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The tie keys of pseudonyms (``S32`` hexadecimal) as two big-endian 64-bit
    halves, which ``np.lexsort`` orders as the 16 bytes would be."""
    raw = bytes.fromhex(names.tobytes().decode("ascii"))
    halves = np.frombuffer(ties(raw), ">u8").reshape(-1, 2)
    return halves[:, 0], halves[:, 1]


def _after(index: MatchIndex, pids: np.ndarray, scores: np.ndarray,
           after: tuple[int, str], ties: TieKeys) -> np.ndarray:
    """Which of these candidates come after the cursor position ``after``: a
    lower score, or the same score and a greater tie key."""
    score_after, name_after = after
    later = scores < score_after
    tied = np.flatnonzero(scores == score_after)
    if len(tied):
        high, low = _tie_keys(ties, index.pseudonym[pids[tied]])
        cursor = np.frombuffer(ties(bytes.fromhex(name_after)), ">u8")
        later[tied] = (high > cursor[0]) | ((high == cursor[0]) & (low > cursor[1]))
    return later


@dataclass(slots=True)
class _Field:
    """Every candidate in the circle and not passed on, with the points of their
    skills; the other parts are scored on demand (``score``)."""

    index: MatchIndex
    matcher: Matcher
    shown: np.ndarray  # per entry: visible to this query
    pids: np.ndarray
    skill: np.ndarray
    employer: np.ndarray | None  # per candidate, when the circle needed it
    distance: np.ndarray  # points per employer id (``_distance``)

    def score(self, at: np.ndarray) -> np.ndarray:
        """The full score of the candidates at positions ``at``."""
        pids = self.pids[at]
        names = ("level", "hours", "free_from", "free_until")
        if self.employer is None:
            names += ("employer",)
        merged = _merged(self.index, pids, self.shown, names)
        employer = merged["employer"] if self.employer is None else self.employer[at]
        spec = self.matcher.spec
        return (self.skill[at]
                + _level(spec.level_min, spec.level_max, merged["level"])
                + _hours(spec.hours_per_week, merged["hours"])
                + _period(spec.period_start, spec.period_end, merged["free_from"],
                          merged["free_until"])
                + self.distance[employer])

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Per candidate the least and the most the full score can be: the skill
        points (and the distance, when the employer is known), plus at most what
        the other parts give for this assignment."""
        spec = self.matcher.spec
        rest = ((15 if spec.level_min is not None or spec.level_max is not None
                 else 0)
                + (10 if spec.hours_per_week is not None else 0)
                + (10 if spec.period_start is not None
                   and spec.period_end is not None else 0))
        if self.employer is not None:
            lower = self.skill + self.distance[self.employer]
            return lower, lower + rest
        return self.skill, self.skill + rest + (0 if spec.remote else 5)


def _everyone(field: _Field) -> tuple[int, np.ndarray, np.ndarray]:
    scores = field.score(np.arange(len(field.pids)))
    keep = scores > 0
    return int(keep.sum()), field.pids[keep], scores[keep]


# Candidates scored first, to learn a score the page must reach: at least
# this many times the page, and this share of the candidates.
_SAMPLE_PAGES, _SAMPLE_SHARE = 4, 1 / 64


def _reachable(field: _Field, after: tuple[int, str] | None, limit: int,
               ties: TieKeys) -> tuple[int, np.ndarray, np.ndarray]:
    """The total, and the candidates that can reach the page with their scores.

    Fully scored are only the candidates whose most possible score reaches a
    score that ``limit`` candidates after the cursor are known to have (learnt
    from those with the highest bounds): anyone below it ranks after all of
    them. Someone with skill points is counted in the total without more: the
    other parts never take points away (measured at a million holders:
    merging and scoring every candidate's columns was most of a broad query).
    """
    lower, upper = field.bounds()
    unsure = np.flatnonzero(field.skill <= 0)
    total = len(field.pids) - len(unsure) + int((field.score(unsure) > 0).sum())
    open_ = np.arange(len(field.pids))
    if after is not None:
        open_ = open_[lower <= after[0]]  # the rest rank before the cursor
    size = max(_SAMPLE_PAGES * limit, int(len(open_) * _SAMPLE_SHARE))
    if len(open_) <= size:
        scores = field.score(open_)
        keep = scores > 0
        return total, field.pids[open_[keep]], scores[keep]
    at = np.argpartition(upper[open_], len(open_) - size)
    best, rest = open_[at[-size:]], open_[at[:-size]]
    scores = field.score(best)
    known = scores > 0
    reach = 1
    if after is not None:
        known &= _after(field.index, field.pids[best], scores, after, ties)
    if known.sum() >= limit:
        reach = int(np.partition(scores[known], known.sum() - limit)[
            known.sum() - limit])
    # The sample is scored already: only the rest that can still reach the
    # page is scored here (those of the sample below it are dropped by ``rank``).
    chosen = rest[upper[rest] >= reach]
    pids = np.concatenate([field.pids[best], field.pids[chosen]])
    scores = np.concatenate([scores, field.score(chosen)])
    keep = scores > 0
    return total, pids[keep], scores[keep]


def _field(index: MatchIndex, matcher: Matcher, rankable: Rankable,
           passed: frozenset[str]) -> _Field:
    """Every candidate (in the circle, not passed on, with a visible wanted
    skill) with their skill points."""
    now = micros(rankable.now)
    reach_ok = np.zeros(index.max_reach + 1, bool)
    keys = [r for r in rankable.reach if 0 <= r <= index.max_reach]
    reach_ok[keys] = True

    shown = index.visible_all(reach_ok, now)
    candidates, best = _skill_hits(index, matcher, shown)
    # The circle and the passed first: they rest on the employer and the holder
    # alone, and a narrow circle leaves few of the holders with a wanted skill to
    # merge and score (measured at a million holders: merging and scoring every
    # holder with a wanted skill took a third of a query). A circle of every
    # employer that takes freelancers too needs no employer.
    employer = None
    if matcher.members is not None or not matcher.spec.freelancers:
        employer = _merged(index, candidates, shown, ("employer",))["employer"]
        inside = _in_circle(index, matcher)[employer]
    else:
        inside = np.ones(len(candidates), bool)
    gone = [index.pid_of[p] for p in passed if p in index.pid_of]
    if gone:
        inside &= ~np.isin(candidates, np.array(gone, np.int32))
    candidates = candidates[inside]
    if employer is not None:
        employer = employer[inside]
    required = len(matcher.required)
    got = [np.zeros(len(candidates), np.int64) for _ in range(2)]
    for slot, points in best.items():
        got[slot >= required] += points[candidates]
    skill = (_share(got[0], 50, matcher.required_total)
             + _share(got[1], 10, matcher.optional_total))
    return _Field(index, matcher, shown, candidates, skill, employer,
                  _distance(index, matcher))


def _skill_hits(index: MatchIndex, matcher: Matcher, visible: np.ndarray
                ) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """The holders with a visible entry holding a wanted skill, and per slot the
    best points of every holder (indexed by holder id).

    The postings of a slot are written in ascending order of their points, each
    group as one constant: a later (higher) group overwrites a lower one, so each
    holder ends with its best, with no per-hit maximum (``np.maximum.at`` took
    most of this step at a million holders)."""
    groups: dict[tuple[int, int], list[np.ndarray]] = {}
    for slot, (uri, related) in enumerate(matcher.slots()):
        weight = matcher.slot_weight(slot, uri)
        for skill, relation in related.items():
            sid = index.skill_id.get(skill)
            entries = index.postings.get(sid) if sid is not None else None
            if entries is not None and len(entries):
                groups.setdefault((slot, quarters(relation) * weight), []).append(
                    entries)
    seen = np.zeros(index.holders, bool)
    best: dict[int, np.ndarray] = {}
    pid = index.col["pid"]
    for slot, points in sorted(groups):
        parts = groups[slot, points]
        entries = parts[0] if len(parts) == 1 else np.concatenate(parts)
        holders = pid[entries[visible[entries]]]
        if not len(holders):
            continue
        seen[holders] = True
        if slot not in best:
            best[slot] = np.zeros(index.holders, np.int16)
        best[slot][holders] = points
    # Kept of numpy's index type: the candidates index a dozen arrays per query,
    # and 32-bit positions are converted before each lookup (measured: a fifth
    # of those lookups' time).
    return np.flatnonzero(seen), best


def _merged(index: MatchIndex, candidates: np.ndarray, visible: np.ndarray,
            names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Index columns ``names`` per candidate from the latest visible entry holding
    each (-1 or NO_DAY where none does); the period's two ends from one entry. A
    candidate with one entry holding columns (``column_entry``) has that entry's
    columns when it is visible; only those with several are merged here."""
    c = index.col
    one = index.column_entry[candidates]
    shown = one >= 0
    shown[shown] = visible[one[shown]]
    chosen = np.where(shown, one, 0)
    out = {name: np.where(shown, c[name][chosen], _NULL[name]).astype(np.int64)
           for name in names}
    several = np.flatnonzero(one == -2)
    if len(several):
        rows = _merged_rows(index, candidates[several], visible)
        for name in names:
            out[name][several] = rows[name]
    return out


_NULL = {"employer": -1, "level": -1, "hours": -1, "free_from": NO_DAY,
         "free_until": NO_DAY}


def _merged_rows(index: MatchIndex, candidates: np.ndarray,
                 visible: np.ndarray) -> dict[str, np.ndarray]:
    """The merge over every entry of each candidate's row."""
    c = index.col
    held = index.holder_entries[candidates]
    used = held >= 0
    entries = np.where(used, held, 0)
    shown = used & visible[entries]
    sequence = np.where(shown, c["seq"][entries], -1)
    present = np.where(shown, c["present"][entries], 0)
    rows = np.arange(len(candidates))
    out = {}
    for names, bit, null in ((("employer",), EMPLOYER, -1), (("level",), LEVEL, -1),
                             (("hours",), HOURS, -1),
                             (("free_from", "free_until"), PERIOD, NO_DAY)):
        stamped = np.where(present & bit, sequence, -1)
        at = stamped.argmax(axis=1)
        got = stamped[rows, at] >= 0
        chosen = entries[rows, at]
        for name in names:
            out[name] = np.where(got, c[name][chosen], null).astype(np.int64)
    return out


def _share(got: np.ndarray, weight: int, total: int) -> np.ndarray:
    """round_half_up(weight * got / (4 * total)) (got in quarters)."""
    if total == 0:
        return np.zeros_like(got)
    return (2 * weight * got + 4 * total) // (8 * total)


def _level(low: int | None, high: int | None, rank_: np.ndarray) -> np.ndarray:
    if low is None and high is None:
        return np.zeros_like(rank_)
    low, high = low or 1, high or 5
    distance = np.maximum(np.maximum(low - rank_, rank_ - high), 0)
    points = np.where(distance == 0, 15, np.where(distance == 1, 7, 0))
    return np.where(rank_ < 0, 0, points)


def _hours(needed: int | None, available: np.ndarray) -> np.ndarray:
    if needed is None:
        return np.zeros_like(available)
    points = np.where(available >= needed, 10,
                      (20 * available + needed) // (2 * needed))
    return np.where(available < 0, 0, points)


def _period(start: date | None, end: date | None, free_from: np.ndarray,
            free_until: np.ndarray) -> np.ndarray:
    if start is None or end is None:
        return np.zeros_like(free_from)
    first, last = day(start), day(end)
    days = last - first + 1
    low = np.where(free_from == NO_DAY, first, np.maximum(first, free_from))
    high = np.where(free_until == NO_DAY, last, np.minimum(last, free_until))
    overlap = np.maximum(0, high - low + 1)
    points = (20 * overlap + days) // (2 * days)
    return np.where((free_from == NO_DAY) & (free_until == NO_DAY), 0, points)


def _distance(index: MatchIndex, matcher: Matcher) -> np.ndarray:
    """Points per employer id (the last place: no employer)."""
    points = np.zeros(len(index.employer_id) + 1, np.int64)
    near, region = matcher.distance_bands()
    for codes, value in ((region, 3), (near, 5)):
        for code in codes:
            if code in index.employer_id:
                points[index.employer_id[code]] = value
    return points


def _in_circle(index: MatchIndex, matcher: Matcher) -> np.ndarray:
    """Whether each employer id (the last place: no employer) is in the circle."""
    inside = np.zeros(len(index.employer_id) + 1, bool)
    if matcher.members is None:
        inside[:-1] = True
        inside[-1] = matcher.spec.freelancers
        return inside
    for code in matcher.members:
        if code in index.employer_id:
            inside[index.employer_id[code]] = True
    return inside
