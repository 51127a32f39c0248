"""A DPO's pages of a requester's entries: each entry whose trace and parent span
name one of the requester's access records, once, in log order, whether the
tables behind the log have caught up with it or not, with any other filter; and
a page is chosen among the keys, so reading it takes no more entries from the
log than it holds (PostgreSQL, counted by the server)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from audit import AuditLog, queries
from audit.subject_index import catch_up, index_batch
from tests.audit.records import T0, access, entry, request

OTHER = "apikey:9"


def shared_traces(log: AuditLog, requests: int) -> list:
    """``requests`` requests of three entries; every third trace also holds a
    second access record, by OTHER, with entries of its own: the trace alone
    does not tell whose an entry is."""
    records: list = []
    for n in range(1, requests + 1):
        batch = request(n, 3)
        if n % 3 == 0:
            span = f"{n:08x}ffffffff"
            batch += [access(n, span_id=span, actor=OTHER), *(
                entry(n, k, parent_span_id=span) for k in (7, 8))]
        log.append(batch)
        records += batch
    return records


def expected(records: list, requester: str, **where) -> list[int]:
    owner = {(r.trace_id, r.span_id): r.actor for r in records
             if r.kind == "access"}
    return [i for i, r in enumerate(records) if r.kind == "processing"
            and owner[(r.trace_id, r.parent_span_id)] == requester
            and all(getattr(r, name) == value for name, value in where.items())]


def paged(log: AuditLog, size: int, **filters) -> list[int]:
    found, after = [], None
    while True:
        page = log.page(limit=size, after=after, **filters)
        found += [r.index for r in page.records]
        if not page.more:
            return found
        after = page.after


FILTERS = [{}, {"organisation": "GM0344"}, {"outcome": "disclosed"},
           {"since": T0 + timedelta(minutes=5), "until": T0 + timedelta(minutes=20)}]


@pytest.mark.parametrize("indexed", ["none", "half", "all"])
def test_a_requesters_pages_hold_each_of_its_entries_once_in_log_order(
        log, indexed):
    records = shared_traces(log, 24)
    if indexed == "half":
        with log.engine.begin() as conn:  # the mark inside a shared trace
            index_batch(conn, log.tables, 55)
    elif indexed == "all":
        catch_up(log.engine, log.tables)

    for requester in ("apikey:0", "apikey:1", OTHER):
        for filters in FILTERS:
            where = {k: v for k, v in filters.items() if k not in ("since", "until")}
            want = expected(records, requester, **where)
            if "since" in filters:
                want = [i for i in want if filters["since"] <= records[i].started_at
                        < filters["until"]]
            assert want, (requester, filters)
            assert paged(log, 4, requester=requester, **filters) == want
            assert [r.index for r in log.entries(
                limit=3, offset=2, requester=requester, **filters)] == want[2:5]
            assert log.count(requester=requester, **filters) == len(want)
    shown = log.entries(limit=1000, requester=OTHER)
    assert {r.access.actor for r in shown} == {OTHER}


@pytest.mark.postgres
def test_a_page_of_a_busy_requesters_entries_reads_no_more_than_it_holds(
        log, backend):
    if backend != "postgres":
        pytest.skip("counted by PostgreSQL's statistics of the transaction")
    for n in range(0, 600, 100):  # 3,600 records, a third apikey:1's
        log.append([r for m in range(n + 1, n + 101) for r in request(m, 5)])
    catch_up(log.engine, log.tables)
    log.append(request(601, 5) + request(604, 5))  # the tail: 12 records
    with log.engine.begin() as conn:  # as autovacuum keeps them
        for table in (log.tables.entries, log.tables.keys, log.tables.access,
                      log.tables.access_keys):
            conn.execute(text(f"ANALYZE {table.name}"))

    stmt = queries._paged(log, 10, 0, 1500, {"requester": "apikey:1"})
    with log.engine.begin() as conn:
        floor = queries._floor(log, conn)
        before = entries_read(log, conn)
        rows = conn.execute(stmt, {queries.FLOOR: floor}).all()
        read = entries_read(log, conn) - before

    assert len(rows) == 10 and rows[0].idx > 1500
    # The page's entries from each side of the mark, and the tail's own.
    assert read <= 2 * 10 + 12, read


def entries_read(log: AuditLog, conn) -> int:
    """The entries this session has read from the table and not yet reported
    to the server's statistics (the count of a transaction, and of those
    before it that the session has not reported yet)."""
    return conn.execute(text(
        "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) "
        "FROM pg_stat_xact_user_tables WHERE relname = :name"),
        {"name": log.tables.entries.name}).scalar_one()
