"""Reading the log: entries with their access record, counts, and export.

An entry is shown together with the access record of the request it belongs to
(matched on ``trace_id`` and the entry's ``parent_span_id``, LDV's link to the
separate audit log), so a DPO can ask "who" as well as "what". Filters are validated
here and give a precise 400 naming the parameter.

No record table has an index (each would cost every append a page in the commit
its answer waits for, invariant 4): what is asked of the records is in tables
written behind the log up to a mark (``audit.subject_index``), and the records
after the mark, the log's short tail, are searched in the log itself. Each
statement reads the mark with those tables, in one snapshot, so a record is on
one side of the mark or the other and never missed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    bindparam,
    func,
    select,
    tuple_,
)
from sqlalchemy.exc import SQLAlchemyError

from audit.entry import (
    OUTCOMES,
    AccessRecord,
    AuditEntry,
    from_epoch_ms,
    iso_ms,
    to_epoch_ms,
)
from audit.errors import (
    AuditError,
    AuditUnavailable,
    InvalidAuditEntry,
    InvalidAuditQuery,
)
from audit.log import MerkleLog
from audit.tables import row_record

FILTERS = ("organisation", "requester", "subject", "purpose", "processing_activity",
           "trace_id", "outcome", "since", "until")
# The filters the keys tables (entries' and access records') answer exactly.
KEYED = frozenset({"organisation", "requester", "trace_id", "since", "until"})
MAX_LIMIT = 1000
DAY_MS = 86_400_000


@dataclass(frozen=True)
class AuditRecord:
    index: int
    entry: AuditEntry
    access: AccessRecord | None  # None only if the access record was pruned

    def to_json(self) -> dict[str, Any]:
        e, a = self.entry, self.access
        return {
            "index": self.index, "traceId": e.trace_id, "spanId": e.span_id,
            "parentSpanId": e.parent_span_id, "name": e.name,
            "startedAt": iso_ms(e.started_at), "endedAt": iso_ms(e.ended_at),
            "processingActivity": e.processing_activity,
            "organisation": e.organisation, "purpose": e.purpose,
            "subject": e.subject, "subjectType": e.subject_type,
            "fields": list(e.fields), "grants": list(e.grants),
            "outcome": e.outcome, "status": e.status, "reason": e.reason,
            "requester": a.actor if a else None, "role": a.role if a else None,
            "action": a.action if a else None, "target": a.target if a else None,
        }


CSV_COLUMNS = [
    "index", "traceId", "spanId", "parentSpanId", "name", "startedAt", "endedAt",
    "processingActivity", "organisation", "purpose", "subject", "subjectType",
    "fields", "grants", "outcome", "status", "reason", "requester", "role", "action",
    "target"]


def entries(log: MerkleLog, *, limit: int = 100, offset: int = 0,
            after: int | None = None, **filters: Any) -> list[AuditRecord]:
    """Matching entries in log order; ``since`` inclusive, ``until`` not;
    ``after``: only entries whose index is above it (a cursor, see ``page``)."""
    return _read(log, _limit(limit), offset, after, filters)


@dataclass(frozen=True)
class Page:
    """Entries of one page and whether more match after them; ``after`` is then
    the cursor that reads the next page (the last index of this one)."""

    records: list[AuditRecord]
    more: bool

    @property
    def after(self) -> int | None:
        return self.records[-1].index if self.more and self.records else None


def page(log: MerkleLog, *, limit: int = 100, offset: int = 0,
         after: int | None = None, **filters: Any) -> Page:
    """``entries`` and whether more match: one row more is read to know. A page
    that is cut says so, so no reader takes the first rows for the whole answer.
    Paging on the index (``after``) rather than an offset misses nothing and
    repeats nothing while entries are appended or old ones pruned."""
    limit = _limit(limit)
    found = _read(log, limit + 1, offset, after, filters)
    return Page(found[:limit], len(found) > limit)


def _read(log: MerkleLog, limit: int, offset: int, after: int | None,
          filters: dict[str, Any]) -> list[AuditRecord]:
    stmt = _paged(log, limit, offset, after, filters)
    with _reading(), log.engine.connect() as conn:
        rows = conn.execute(stmt, {FLOOR: _floor(log, conn)}).mappings().all()
        access = _access_of(log, conn, rows)
    decoded: dict[tuple[str, str], AccessRecord] = {}
    return [_record(row, access, decoded) for row in rows]


def count(log: MerkleLog, **filters: Any) -> int:
    stmt = select(func.count()).select_from(log.tables.entries).where(
        *where(log, filters))
    with _reading(), log.engine.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def daily_counts(log: MerkleLog, **filters: Any) -> list[dict[str, Any]]:
    """Entries per UTC day, purpose and outcome (the DPO's overview)."""
    e = log.tables.entries
    day = (e.c.started_at_ms // DAY_MS).label("day")
    stmt = (select(day, e.c.purpose, e.c.outcome, func.count().label("n"))
            .where(*where(log, filters))
            .group_by(day, e.c.purpose, e.c.outcome).order_by(day, e.c.purpose,
                                                              e.c.outcome))
    with _reading(), log.engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return [{"day": iso_ms(_day(r.day))[:10], "purpose": r.purpose,
             "outcome": r.outcome, "count": r.n} for r in rows]


def to_csv(records: list[AuditRecord], header: bool = True) -> str:
    """The records as CSV; without ``header``, to follow an earlier part."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    if header:
        writer.writeheader()
    for record in records:
        row = record.to_json()
        row["fields"] = " ".join(row["fields"])
        row["grants"] = " ".join(row["grants"])
        writer.writerow({k: _csv_safe(v) for k, v in row.items()})
    return out.getvalue()


def _csv_safe(value: Any) -> Any:
    # A cell starting with = + - @ is a formula in spreadsheet programs (CWE-1236).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return "" if value is None else value


def _day(day: int) -> datetime:
    return from_epoch_ms(day * DAY_MS)


class Window(NamedTuple):
    """What a read of one page wants: the first ``n`` entries after ``after``
    (None: from the start) in log order."""

    after: int | None
    n: int


# The parameter of a paged read's statement that holds the mark as read just
# before it (``_floor``). The statement reads the mark again, in its own
# snapshot; the mark only moves forward, so the log's tail lies at or above
# the value given, which tells the planner how short the tail is: without it
# PostgreSQL took the tail for a third of the log and read all of the log's
# entries to find it.
FLOOR = "tail_floor"


def _paged(log: MerkleLog, limit: int, offset: int, after: int | None,
           filters: dict[str, Any]) -> Select:
    """The statement of one page (``_read``): executed with ``FLOOR``."""
    e = log.tables.entries
    after = None if after is None else _cursor(after)
    offset = _offset(offset)
    stmt = _selected(log, filters, Window(after, limit + offset))
    if after is not None:
        stmt = stmt.where(e.c.idx > after)
    return stmt.order_by(e.c.idx).limit(limit).offset(offset)


def _floor(log: MerkleLog, conn: Any) -> int:
    m = log.tables.subjects_mark
    return conn.execute(select(m.c.upto).where(m.c.id == 1)).scalar() or 0


def _selected(log: MerkleLog, filters: dict[str, Any],
              window: Window | None = None) -> Select:
    """The entries that match ``filters`` (``where``, within its ``window``),
    without their access records (``_access_of``)."""
    return select(log.tables.entries).where(*where(log, filters, window))


def _access_of(log: MerkleLog, conn: Any, rows: Sequence[Any]
               ) -> dict[tuple[str, str], Any]:
    """The access records of the entries ``rows``, by trace and span: found by
    their traces in the access keys (before the mark) and in the log's tail
    (after it), then matched to the entries' parent spans here. Should two
    records name the same trace and span, the first in the log is the one."""
    traces = sorted({row["trace_id"] for row in rows
                     if row["parent_span_id"] is not None})
    if not traces:
        return {}
    a, k = log.tables.access, log.tables.access_keys
    tail = a.alias("tail")
    stmt = select(a).where(a.c.idx.in_(
        select(k.c.idx).where(k.c.trace_id.in_(traces)).union_all(
            select(tail.c.idx).where(tail.c.idx >= _mark(log),
                                     tail.c.trace_id.in_(traces))))
    ).order_by(a.c.idx)
    found: dict[tuple[str, str], Any] = {}
    for row in conn.execute(stmt).mappings():
        found.setdefault((row["trace_id"], row["span_id"]), row)
    return found


def _record(row: Any, access_rows: dict[tuple[str, str], Any],
            decoded: dict[tuple[str, str], AccessRecord]) -> AuditRecord:
    """The entry of ``row`` with its access record, decoded once per page into
    ``decoded``: the entries of a request share it (a page of a requester's
    entries, ten to a request, decoded it ten times, more CPU than the query)."""
    try:
        entry = row_record(AuditEntry, row)
        key = (row["trace_id"], row["parent_span_id"])
        access = decoded.get(key)
        if access is None and key in access_rows:
            access = decoded[key] = row_record(  # type: ignore[assignment]
                AccessRecord, access_rows[key])
    except InvalidAuditEntry as exc:
        raise AuditError(f"stored entry {row['idx']} is malformed; run verify") from exc
    return AuditRecord(row["idx"], entry, access)  # type: ignore[arg-type]


def _mark(log: MerkleLog) -> Any:
    """The mark as a scalar subquery: every record before it is in the tables
    written behind the log, the ones from it on are the log's tail."""
    m = log.tables.subjects_mark
    return select(m.c.upto).where(m.c.id == 1).scalar_subquery()


def where(log: MerkleLog, filters: dict[str, Any],
          window: Window | None = None) -> list[ColumnElement[bool]]:
    """Validate the filters (precise 400s) and turn them into conditions.

    ``window``: that of a read of one page. When every filter given is one
    the keys tables answer exactly (``KEYED``), the page's entries are chosen
    among the keys (``_of_keys``), and the read takes no more than them from
    the log."""
    e = log.tables.entries
    conditions: list[ColumnElement[bool]] = []
    keyed: dict[str, Any] = {}  # the filters the keys table can answer
    for name, value in filters.items():
        if name not in FILTERS:
            raise InvalidAuditQuery(name, "one of " + ", ".join(FILTERS))
        if value is None:
            continue
        if name in ("since", "until"):
            keyed[name] = _time_bound(name, value)
            conditions.append(_time_condition(e.c.started_at_ms, name, keyed[name]))
        elif name == "requester":
            # Held to it exactly by ``_of_keys`` alone: no condition here.
            keyed[name] = _requested(log, _filter_text(name, value), window)
        elif name == "subject":
            conditions.append(_of_subject(log, _filter_text(name, value)))
        else:
            text = _filter_text(name, value)
            conditions.append(e.c[name] == text)
            if name in ("organisation", "trace_id"):
                keyed[name] = text
    if keyed:
        given = {name for name, value in filters.items() if value is not None}
        conditions.append(_of_keys(log, keyed, window if given <= KEYED else None))
    return conditions


def _of_subject(log: MerkleLog, subject: str) -> ColumnElement[bool]:
    """The entries of ``subject``: those the subjects table holds (every entry
    before its mark) and those after the mark, searched in the log itself, a
    short tail (``audit.subject_index``). One statement, so one snapshot: an
    entry is on one side of the mark or the other, never missed."""
    e, s = log.tables.entries, log.tables.subjects
    tail = e.alias("tail")
    return e.c.idx.in_(
        select(s.c.idx).where(s.c.subject == subject).union_all(
            select(tail.c.idx).where(tail.c.idx >= _mark(log),
                                     tail.c.subject == subject)))


def _of_keys(log: MerkleLog, keyed: dict[str, Any],
             window: Window | None) -> ColumnElement[bool]:
    """The entries that match the filters on organisation, period, trace and
    requester, found the way ``_of_subject`` finds a subject's: in the keys
    table (every entry before the mark, searched by its indexes) and in the
    log's tail after the mark. A requester's are the entries whose trace and
    parent span name one of its access records (``_requested``), matched
    exactly on both sides, so each side holds exactly the matching entries.

    With a ``window``, each side gives only its first ``n`` after ``after``
    in log order, which are all a page of ``n`` can hold: the page is cut
    among the keys (their primary key is the log order) instead of reading
    every matching entry from the log, thousands for a busy requester, to
    sort them there (bench/audit_requester_filter.py)."""
    e, k = log.tables.entries, log.tables.keys
    tail = e.alias("tail")
    sides = [_keyed(log, k, keyed), _keyed(log, tail, keyed, in_tail=True).where(
        *_in_tail(log, tail.c.idx, window))]
    if window is not None:
        sides = [_first(side, window) for side in sides]
    return e.c.idx.in_(sides[0].union_all(sides[1]))


def _in_tail(log: MerkleLog, idx: Any,
             window: Window | None) -> list[ColumnElement[bool]]:
    """``idx`` lies in the log's tail: at or above the mark (and, in a paged
    read, at or above ``FLOOR``, which that implies, told to the planner)."""
    tail = [idx >= _mark(log)]
    if window is None:
        return tail
    return [*tail, idx >= bindparam(FLOOR, type_=BigInteger)]


def _first(side: Select, window: Window) -> Select:
    """The first ``n`` of ``side`` after ``after`` in log order, as a select of
    its own (SQLite allows no LIMIT on a member of a compound select)."""
    idx = side.selected_columns[0]
    if window.after is not None:
        side = side.where(idx > window.after)
    first = side.order_by(idx).limit(window.n).subquery()
    return select(first.c.idx)


def _keyed(log: MerkleLog, table: Any, keyed: dict[str, Any],
           in_tail: bool = False) -> Select:
    """The ``idx`` of the entries of ``table`` (the keys, or the log's tail)
    that match every filter in ``keyed``."""
    stmt = select(table.c.idx)
    # A requester's entries in the keys are found from their access records
    # through the trace index. The organisation and period are then tested on
    # each of them, written so that no index serves them: SQLite, which keeps
    # no statistics, would otherwise start from the organisation's index and
    # test each of its entries against the requester's records (14 against
    # 8 ms a page at 55,880 records, bench/audit_requester_filter.py).
    unindexed = "requester" in keyed and not in_tail
    for name, value in keyed.items():
        if name == "requester":  # value: its access records (``_requested``)
            stmt = stmt.where(tuple_(table.c.trace_id, table.c.parent_span_id).in_(
                select(value.c.trace_id, value.c.span_id)))
        elif name in ("since", "until"):
            time = table.c.started_at_ms
            stmt = stmt.where(_time_condition(time + 0 if unindexed else time,
                                              name, value))
        elif name == "organisation" and unindexed:
            stmt = stmt.where(table.c.organisation.concat("") == value)
        else:
            stmt = stmt.where(table.c[name] == value)
    return stmt


def _requested(log: MerkleLog, requester: str, window: Window | None) -> Any:
    """The traces and spans of the access records of ``requester``: those in
    the access keys table, read from its actor index alone, and those in the
    log's tail after the mark. A common table expression, read by both sides
    of ``_of_keys`` but made once, and independent of the entries, so it is
    not evaluated for each of them."""
    keys = log.tables.access_keys
    tail = log.tables.access.alias("requested_tail")
    return select(keys.c.trace_id, keys.c.span_id).where(
        keys.c.actor == requester).union_all(
        select(tail.c.trace_id, tail.c.span_id).where(
            *_in_tail(log, tail.c.idx, window), tail.c.actor == requester)
    ).cte("requested")


def _filter_text(name: str, value: object) -> str:
    if name == "outcome" and value not in OUTCOMES:
        raise InvalidAuditQuery(name, "one of " + ", ".join(OUTCOMES))
    if not isinstance(value, str) or not value or len(value) > 200:
        raise InvalidAuditQuery(name, "a non-empty string of at most 200 characters")
    return value


def _time_bound(name: str, value: object) -> int:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidAuditQuery(name, "a date-time with its offset (e.g. "
                                "2026-12-05T00:00:00Z)")
    # Stored at millisecond precision: round the bounds up to the next millisecond
    # so that [since, until) keeps its meaning for sub-millisecond bounds.
    return to_epoch_ms(value, round_up=True)


def _time_condition(column: Any, name: str, ms: int) -> ColumnElement[bool]:
    return column >= ms if name == "since" else column < ms


def _limit(value: object) -> int:
    if type(value) is not int or not 1 <= value <= MAX_LIMIT:
        raise InvalidAuditQuery("limit", f"an integer from 1 to {MAX_LIMIT}")
    return value


def _cursor(value: object) -> int:
    if type(value) is not int or value < 0:
        raise InvalidAuditQuery("after", "the index of an entry (an integer >= 0)")
    return value


def _offset(value: object) -> int:
    if type(value) is not int or value < 0:
        raise InvalidAuditQuery("offset", "an integer >= 0")
    return value


@contextmanager
def _reading() -> Iterator[None]:
    """The one boundary where database errors of a read become audit errors."""
    try:
        yield
    except (SQLAlchemyError, OSError) as exc:
        raise AuditUnavailable("could not read the audit log") from exc
