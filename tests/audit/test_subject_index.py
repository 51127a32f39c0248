"""The entries by subject are written behind the log (``audit.subject_index``):
a holder's entries are found whether the subjects table has caught up with them
or not, the catch-up copies each entry once, and retention removes what it
pruned from that table too."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from audit import AuditLog
from audit.subject_index import catch_up, index_batch
from tests.audit.records import T0, filled, request


def mark(log: AuditLog) -> int:
    with log.engine.connect() as conn:
        return conn.execute(select(log.tables.subjects_mark.c.upto)).scalar_one()


def indexed(log: AuditLog) -> list[tuple[str, int]]:
    s = log.tables.subjects
    with log.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(
            select(s.c.subject, s.c.idx).order_by(s.c.idx))]


def subject_indices(log: AuditLog, subject: str) -> list[int]:
    return [r.index for r in log.entries(subject=subject, limit=1000)]


def test_a_subjects_entries_are_found_before_during_and_after_the_catch_up(log):
    records = filled(log, 6, 3)  # 24 leaves, none indexed yet
    expected = {f"psn-{n}": [i for i, r in enumerate(records)
                             if r.kind == "processing" and r.subject == f"psn-{n}"]
                for n in range(5)}
    assert mark(log) == 0 and indexed(log) == []
    assert {s: subject_indices(log, s) for s in expected} == expected

    with log.engine.begin() as conn:  # the mark in the middle of a request
        assert index_batch(conn, log.tables, 10) == (10, 10)
    assert {s: subject_indices(log, s) for s in expected} == expected
    assert log.count(subject="psn-1") == len(expected["psn-1"])

    assert catch_up(log.engine, log.tables) == (14, 24)
    assert {s: subject_indices(log, s) for s in expected} == expected
    assert [i for _s, i in indexed(log)] == [
        i for i, r in enumerate(records) if r.kind == "processing"]


def access_indexed(log: AuditLog) -> list[int]:
    k = log.tables.access_keys
    with log.engine.connect() as conn:
        return list(conn.execute(select(k.c.idx).order_by(k.c.idx)).scalars())


def test_a_requesters_entries_and_their_access_records_are_found_across_the_mark(
        log):
    records = filled(log, 9, 2)  # 27 leaves, none indexed yet
    access_of = {i: records[i - i % 3] for i, r in enumerate(records)
                 if r.kind == "processing"}
    expected = {actor: [i for i, a in access_of.items() if a.actor == actor]
                for actor in ("apikey:0", "apikey:1", "apikey:2")}

    def seen() -> tuple[dict[str, list[int]], list]:
        by_actor = {actor: [r.index for r in log.entries(requester=actor,
                                                         limit=1000)]
                    for actor in expected}
        return by_actor, [(r.index, r.access) for r in log.entries(limit=1000)]

    everything = (expected, list(access_of.items()))
    assert access_indexed(log) == [] and seen() == everything
    with log.engine.begin() as conn:  # the mark between a request's records
        assert index_batch(conn, log.tables, 13) == (13, 13)
    assert access_indexed(log) == [0, 3, 6, 9, 12]
    assert seen() == everything
    assert log.count(requester="apikey:1") == len(expected["apikey:1"])
    assert catch_up(log.engine, log.tables) == (14, 27)
    assert access_indexed(log) == list(range(0, 27, 3))
    assert seen() == everything


def test_an_entry_and_its_access_record_on_either_side_of_the_mark_are_joined(log):
    from tests.audit.records import access, entry
    log.append([access(1, subjects=1)])  # leaf 0, indexed below
    catch_up(log.engine, log.tables)
    log.append([entry(1, 0), access(2, subjects=1)])  # leaves 1 and 2, the tail
    log.append([entry(2, 0)])
    assert [(r.index, r.access) for r in log.entries()] == [
        (1, access(1, subjects=1)), (3, access(2, subjects=1))]
    assert [r.index for r in log.entries(requester="apikey:1")] == [1]
    assert [r.index for r in log.entries(requester="apikey:2")] == [3]


def test_the_catch_up_stops_at_the_head_and_copies_nothing_twice(log):
    filled(log, 3, 2)
    assert catch_up(log.engine, log.tables) == (9, 9)
    assert catch_up(log.engine, log.tables) == (0, 9)
    log.append(request(4, 2))
    assert catch_up(log.engine, log.tables) == (3, 12)
    assert len(indexed(log)) == 8 and mark(log) == 12


def test_indexers_that_run_at_once_take_turns(log):
    filled(log, 20, 4)
    errors: list[Exception] = []

    def run() -> None:
        try:
            catch_up(log.engine, log.tables)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and mark(log) == 100
    assert len(indexed(log)) == 80


def test_the_thread_indexes_once_the_log_has_grown_its_lag(engine, prefix, tables):
    log = AuditLog(engine, prefix=prefix)
    log._subjects._lag, log._subjects._interval = 30, 0.01
    log.create_tables()
    try:
        for n in range(1, 5):  # 24 leaves: not yet
            log.append(request(n, 5))
        assert log._subjects._thread is None and mark(log) == 0
        for n in range(5, 7):  # 36: now
            log.append(request(n, 5))
        thread = log._subjects._thread
        assert thread is not None
        thread.join(timeout=10)
        assert mark(log) == 36 and len(indexed(log)) == 30
    finally:
        tables.metadata.drop_all(engine)


def test_pruning_removes_the_pruned_entries_from_the_subjects_table(log):
    filled(log, 6, 2)  # requests at T0 + 1..6 minutes
    catch_up(log.engine, log.tables)
    deleted = log.prune(T0 + timedelta(minutes=4), now=T0 + timedelta(days=800))
    assert deleted == 9
    assert [i for _s, i in indexed(log)] == [10, 11, 13, 14, 16, 17]
    assert access_indexed(log) == [9, 12, 15]
    s = log.tables.subjects
    with log.engine.connect() as conn:
        assert conn.execute(select(func.min(s.c.idx))).scalar() == 10
    catch_up(log.engine, log.tables)  # the pruning's own record is no entry
    assert len(indexed(log)) == 6


# --- verification covers the index: a holder's and the DPO's questions read it ----


def test_an_index_caught_up_and_pruned_verifies(log):
    filled(log, 6, 2)
    catch_up(log.engine, log.tables)
    log.prune(T0 + timedelta(minutes=4), now=T0 + timedelta(days=800))
    log.append(request(7, 2))
    assert log.verify().ok
    catch_up(log.engine, log.tables)
    assert log.verify().ok


def test_a_subjects_row_naming_another_subject_fails_verification_at_its_entry(
        log, engine):
    from sqlalchemy import update
    filled(log, 3, 2)
    catch_up(log.engine, log.tables)
    s = log.tables.subjects
    with engine.begin() as conn:  # entry 4 now shows as psn-4's, not its own
        conn.execute(update(s).where(s.c.idx == 4).values(subject="psn-4x"))
    report = log.verify()
    assert not report.ok and report.first_bad_index == 4
    assert "subjects" in report.problem


def test_a_subjects_row_beyond_the_mark_fails_verification(log, engine):
    filled(log, 3, 2)
    catch_up(log.engine, log.tables)
    filled_more = request(4, 2)
    log.append(filled_more)  # indices 9-11, after the mark
    s = log.tables.subjects
    with engine.begin() as conn:
        conn.execute(s.insert().values(subject="psn-0", started_at_ms=0, idx=10))
    report = log.verify()
    assert not report.ok and report.first_bad_index == 10


def test_a_missing_subjects_mark_fails_verification(log, engine):
    filled(log, 2, 1)
    with engine.begin() as conn:
        conn.execute(log.tables.subjects_mark.delete())
    report = log.verify()
    assert not report.ok and "mark" in report.problem


# --- on SQLite the batch runs on the appending connection, between two commits ----


def synchronous_of_writer(log: AuditLog) -> int:
    return log._writer().dbapi_connection.execute("PRAGMA synchronous").fetchone()[0]


def test_on_sqlite_the_thread_writes_on_the_appending_connection_and_leaves_it_durable(
        engine, prefix, tables, backend):
    if backend != "sqlite":
        pytest.skip("PostgreSQL's indexer has connections of its own")
    log = AuditLog(engine, prefix=prefix, subject_thread=True)
    log._subjects._lag, log._subjects._interval = 30, 0.01
    log.create_tables()
    try:
        log.append(request(1, 5))
        writer = log._writer()
        for n in range(2, 7):  # 36 leaves: the thread starts
            log.append(request(n, 5))
        log._subjects._thread.join(timeout=10)
        assert mark(log) == 36 and len(indexed(log)) == 30
        assert log._writer() is writer  # one writer: no busy wait, no stale cache
        assert synchronous_of_writer(log) == 2  # FULL again for the next append
    finally:
        log.close()
        tables.metadata.drop_all(engine)


def test_on_sqlite_a_failed_batch_gives_up_the_writer_and_appends_stay_durable(
        engine, prefix, tables, backend):
    if backend != "sqlite":
        pytest.skip("PostgreSQL's indexer has connections of its own")
    log = AuditLog(engine, prefix=prefix, subject_thread=False)
    log.create_tables()
    try:
        log.append(request(1, 2))
        writer = log._writer()

        def fails(raw):
            raw.execute(f"DELETE FROM {tables.entries.name}")
            raise RuntimeError("the batch failed")

        with pytest.raises(RuntimeError):
            log._on_writer(fails)
        assert log._writer() is not writer
        assert synchronous_of_writer(log) == 2
        log.append(request(2, 2))
        assert log.count() == 4 and log.verify().ok  # the failed batch rolled back
    finally:
        log.close()
        tables.metadata.drop_all(engine)
