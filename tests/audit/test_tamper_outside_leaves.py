"""Tampering that leaves every leaf hash in place: the head's count of pruned
records and the subjects index. Verification must notice both, since the
holder's and the DPO's questions are answered from them."""

from __future__ import annotations

from sqlalchemy import delete, update

from audit.subject_index import catch_up
from tests.audit.records import T0, filled


def test_records_deleted_as_if_pruned_without_a_pruning_fail_verification(log, engine,
                                                                         tables):
    filled(log, 4, 1)  # recent records; retention never ran
    saved = log.checkpoint(T0)
    with engine.begin() as conn:
        conn.execute(update(tables.head).values(pruned=6))
        conn.execute(delete(tables.entries).where(tables.entries.c.idx < 6))
        conn.execute(delete(tables.access).where(tables.access.c.idx < 6))
    report = log.verify(checkpoint=saved)
    assert not report.ok, report


def test_a_subjects_mark_moved_past_the_head_fails_verification(log, engine, tables):
    records = filled(log, 3, 2)
    subject = next(r.subject for r in records if r.kind == "processing")
    assert log.entries(subject=subject, limit=1000)
    with engine.begin() as conn:
        conn.execute(update(tables.subjects_mark).values(upto=10**9))
    assert log.entries(subject=subject, limit=1000) == []  # what the holder sees now
    assert not log.verify().ok


def test_a_subjects_row_deleted_below_the_mark_fails_verification(log, engine, tables):
    records = filled(log, 3, 2)
    catch_up(log.engine, log.tables)
    subject = next(r.subject for r in records if r.kind == "processing")
    with engine.begin() as conn:
        conn.execute(delete(tables.subjects).where(tables.subjects.c.subject == subject))
    assert log.entries(subject=subject, limit=1000) == []
    assert not log.verify().ok


def test_an_entry_keys_row_changed_below_the_mark_fails_verification(log, engine,
                                                                     tables):
    records = filled(log, 3, 2)
    catch_up(log.engine, log.tables)
    organisation = next(r.organisation for r in records if r.kind == "processing")
    with engine.begin() as conn:
        conn.execute(update(tables.keys).where(
            tables.keys.c.organisation == organisation).values(organisation="GM9999"))
    assert not log.verify().ok


def test_an_entry_keys_row_deleted_below_the_mark_fails_verification(log, engine,
                                                                     tables):
    filled(log, 3, 2)
    catch_up(log.engine, log.tables)
    with engine.begin() as conn:
        conn.execute(delete(tables.keys).where(tables.keys.c.idx == 1))
    assert not log.verify().ok


def test_an_access_keys_row_naming_another_actor_fails_verification(log, engine,
                                                                   tables):
    # The DPO's filter by requester reads this table below the mark.
    filled(log, 3, 2)
    catch_up(log.engine, log.tables)
    k = tables.access_keys
    with engine.begin() as conn:
        conn.execute(update(k).where(k.c.idx == 3).values(actor="apikey:99"))
    report = log.verify()
    assert not report.ok and report.first_bad_index == 3
    assert "access_keys" in report.problem


def test_an_access_keys_row_deleted_below_the_mark_fails_verification(log, engine,
                                                                     tables):
    filled(log, 3, 2)
    catch_up(log.engine, log.tables)
    with engine.begin() as conn:
        conn.execute(delete(tables.access_keys).where(tables.access_keys.c.idx == 0))
    assert log.entries(requester="apikey:1") == []  # what the DPO sees now
    report = log.verify()
    assert not report.ok and report.first_bad_index == 0
