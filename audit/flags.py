"""Flags for unusual access, for a DPO to look into (BIO 5.17.01, 8.15: monitoring).

A flag is a reason to look, not a finding. Four rules, each with its threshold in
``FlagRules``:

* ``volume``: a requester's entries on one day are far above their usual day (the
  median of their active days in the ``baseline_days`` before the period);
* ``office-hours``: a request made outside office hours (local time of the
  municipalities, weekdays ``office_start`` to ``office_end``);
* ``repeated-views``: one requester was shown one person ``repeat_threshold`` times
  or more in the period;
* ``purpose``: an entry whose purpose is not one that the request's action serves
  (``expected_purposes``, e.g. candidates for an assignment serve *matching* only).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from audit import queries
from audit.entry import iso_ms
from audit.errors import InvalidAuditQuery
from audit.log import MerkleLog

MAX_PERIOD = timedelta(days=92)
MAX_ROWS = 100_000
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
            "Sunday")  # named here, not by the process's locale


@dataclass(frozen=True)
class FlagRules:
    timezone: str = "Europe/Amsterdam"
    office_start: time = time(7, 0)
    office_end: time = time(19, 0)
    volume_factor: float = 3.0
    volume_minimum: int = 20
    baseline_days: int = 28
    repeat_threshold: int = 3
    expected_purposes: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Flag:
    kind: str
    organisation: str
    requester: str | None
    detail: str
    subject: str | None = None
    day: str | None = None
    count: int | None = None
    trace_id: str | None = None
    # The values ``detail`` is written from, for a reader that words it in
    # another language (the DPO's pages); ``detail`` stays the API's English.
    facts: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "organisation": self.organisation,
                "requester": self.requester, "subject": self.subject,
                "day": self.day, "count": self.count, "traceId": self.trace_id,
                "detail": self.detail}


def flags(log: MerkleLog, since: datetime, until: datetime, rules: FlagRules,
          organisation: str | None = None,
          after: int | None = None) -> tuple[list[Flag], int | None]:
    """The flags for entries in [since, until), from the first ``MAX_ROWS`` of
    them (after the entry of index ``after``, when given). The second value is the
    cursor of the rest: the index of the last entry read when more follow, else
    None. A page's counts (volume, repeated views) are over its own entries."""
    _check_period(since, until)
    limit = MAX_ROWS  # read at call time: a test may make pages small
    records = _read(log, since, until, organisation, limit, after)
    rest = records[limit - 1].index if len(records) > limit else None
    records = records[:limit]
    zone = ZoneInfo(rules.timezone)
    usual = _usual_day(log, since, rules, organisation)
    found = [*_volume(records, usual, rules), *_office_hours(records, rules, zone),
             *_repeated(records, rules), *_purpose(records, rules)]
    return found, rest


def _check_period(since: object, until: object) -> None:
    for name, value in (("since", since), ("until", until)):
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise InvalidAuditQuery(name, "a date-time with its offset (e.g. "
                                    "2026-12-05T00:00:00Z)")
    if not since < until <= since + MAX_PERIOD:  # type: ignore[operator]
        raise InvalidAuditQuery("until", f"after since, at most {MAX_PERIOD.days} "
                                "days later")


def _read(log: MerkleLog, since: datetime, until: datetime,
          organisation: str | None, limit: int = MAX_ROWS,
          after: int | None = None) -> list[queries.AuditRecord]:
    """Up to ``limit`` entries and at least one more when there are more."""
    out: list[queries.AuditRecord] = []
    while len(out) <= limit:
        page = queries.entries(log, since=since, until=until, organisation=organisation,
                               limit=queries.MAX_LIMIT, after=after)
        out.extend(page)
        if len(page) < queries.MAX_LIMIT:
            break
        after = page[-1].index
    return out


def _usual_day(log: MerkleLog, since: datetime, rules: FlagRules,
               organisation: str | None) -> dict[str, float]:
    """Median entries per active day of each requester before the period."""
    start = since - timedelta(days=rules.baseline_days)
    per_day: dict[str, list[int]] = defaultdict(list)
    counts = Counter((r.access.actor, _utc_day(r.entry))
                     for r in _read(log, start, since, organisation) if r.access)
    for (actor, _day), n in counts.items():
        per_day[actor].append(n)
    return {actor: statistics.median(days) for actor, days in per_day.items()}


def _volume(records: list, usual: dict[str, float], rules: FlagRules) -> list[Flag]:
    """A requester's day far above their usual one. Days are UTC days, as the
    counts per day, the usual day and the log's date filters count them: the day
    a flag names is the day a DPO filters on to find its entries."""
    counts = Counter((r.access.actor, r.entry.organisation, _utc_day(r.entry))
                     for r in records if r.access)
    found = []
    for (actor, org, day), n in sorted(counts.items()):
        baseline = usual.get(actor, 0)
        if n >= rules.volume_minimum and n > rules.volume_factor * baseline:
            found.append(Flag("volume", org, actor, f"{n} entries on {day} (UTC); "
                              f"usual day {baseline:g}", day=day.isoformat(), count=n,
                              facts={"count": str(n), "day": day.isoformat(),
                                     "usual": f"{baseline:g}"}))
    return found


def _utc_day(entry) -> date:
    return entry.started_at.astimezone(timezone.utc).date()


def _office_hours(records: list, rules: FlagRules, zone: ZoneInfo) -> list[Flag]:
    """A request on a weekend day, or on a weekday before ``office_start`` or at or
    after ``office_end`` (local time); the detail says which of the three."""
    found, seen = [], set()
    for r in records:
        if r.access is None or r.entry.trace_id in seen:
            continue
        seen.add(r.entry.trace_id)
        local = r.access.occurred_at.astimezone(zone)
        why = _outside_office(local, rules)
        if why is not None:
            start, end = f"{rules.office_start:%H:%M}", f"{rules.office_end:%H:%M}"
            reason = {"weekend": "at the weekend", "early": f"before {start}",
                      "late": f"at or after {end}"}[why]
            found.append(Flag("office-hours", r.entry.organisation, r.access.actor,
                              f"request at {local.isoformat(timespec='minutes')} "
                              f"({WEEKDAYS[local.weekday()]}): {reason}",
                              trace_id=r.entry.trace_id,
                              facts={"at": iso_ms(r.access.occurred_at),
                                     "local": f"{local:%H:%M}",
                                     "localDay": local.date().isoformat(),
                                     "weekday": str(local.weekday()), "why": why,
                                     "start": start, "end": end}))
    return found


def _outside_office(local: datetime, rules: FlagRules) -> str | None:
    """Why a local time is outside office hours (``weekend``, ``early``, ``late``),
    or None when it is inside them."""
    if local.weekday() >= 5:
        return "weekend"
    if local.time() < rules.office_start:
        return "early"
    if local.time() >= rules.office_end:
        return "late"
    return None


def _repeated(records: list, rules: FlagRules) -> list[Flag]:
    counts = Counter((r.access.actor, r.entry.organisation, r.entry.subject)
                     for r in records if r.access and r.entry.outcome == "disclosed")
    return [Flag("repeated-views", org, actor, f"shown {n} times in the period",
                 subject=subject, count=n, facts={"count": str(n)})
            for (actor, org, subject), n in sorted(counts.items())
            if n >= rules.repeat_threshold]


def _purpose(records: list, rules: FlagRules) -> list[Flag]:
    found = []
    for r in records:
        if r.access is None or r.access.action not in rules.expected_purposes:
            continue
        if r.entry.purpose not in rules.expected_purposes[r.access.action]:
            found.append(Flag("purpose", r.entry.organisation, r.access.actor,
                              f"purpose {r.entry.purpose} does not fit "
                              f"{r.access.action} ({r.access.target})",
                              subject=r.entry.subject, trace_id=r.entry.trace_id,
                              day=iso_ms(r.entry.started_at)[:10],
                              facts={"purpose": r.entry.purpose,
                                     "action": r.access.action,
                                     "target": r.access.target}))
    return found
