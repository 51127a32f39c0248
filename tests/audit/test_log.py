"""The audit log appends durably, keeps an RFC 9162 tree over its records, and its
verification names the place of any change, deletion, insertion, reordering or
rollback.

Every test runs on SQLite and, with VG_TEST_POSTGRES_URL set, on PostgreSQL
(fixtures in conftest.py). Tampering is done the way an intruder with database access
would do it: raw SQL against the tables.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url

from audit import (
    AccessRecord,
    AuditAppendFailed,
    AuditEntry,
    AuditError,
    AuditLog,
    AuditUnavailable,
    InvalidAuditEntry,
    make_engine,
)
from audit.leaves import MEMBER_WIDTH, EntryRun
from audit.merkle import EMPTY_ROOT, MemoryTree, leaf_hash
from audit.tables import record_row
from audit.tiles import TILE_BYTES, inner_nodes, tiles_of
from tests.audit.conftest import SIGNER
from tests.audit.records import T0, access, entry, filled, request

REPO = Path(__file__).resolve().parents[2]


def run_sql(engine: Engine, *statements: str) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def assert_fails_at(log: AuditLog, index: int | None, words: str = "",
                    **kwargs: object) -> None:
    report = log.verify(**kwargs)  # type: ignore[arg-type]
    assert not report.ok, report
    assert report.first_bad_index == index, report
    assert words in (report.problem or ""), report


# --- the records and their canonical bytes ------------------------------------------


def test_an_entry_s_canonical_bytes_are_sorted_compact_json_without_an_actor():
    e = entry(1, started_at=datetime(2026, 3, 1, 10, 30, 0, 125999,
                                     tzinfo=timezone(timedelta(hours=1))),
              ended_at=datetime(2026, 3, 1, 9, 30, 0, 200000, tzinfo=timezone.utc),
              fields=["skills", "level"], grants=["g2", "g1"])
    document = json.loads(e.canonical_bytes())
    assert list(document) == sorted(document)
    assert document["kind"] == "processing"
    assert document["started_at"] == "2026-03-01T09:30:00.125Z"
    assert document["fields"] == ["level", "skills"] and document["grants"] == [
        "g1", "g2"]
    assert "actor" not in document  # LDV: no user identities in processing records
    assert b" " not in e.canonical_bytes().replace(b"a live grant covers it", b"")


def test_an_access_record_holds_the_actor_and_links_to_its_entries():
    a, e = access(4), entry(4)
    document = json.loads(a.canonical_bytes())
    assert document["kind"] == "access" and document["actor"] == "apikey:1"
    assert (e.trace_id, e.parent_span_id) == (a.trace_id, a.span_id)


def test_an_unset_parent_span_is_left_out_of_the_canonical_form():
    assert "parent_span_id" not in json.loads(
        entry(1, parent_span_id=None).canonical_bytes())


@pytest.mark.parametrize(("field", "value"), [
    ("trace_id", "0" * 32), ("trace_id", "4BF92F3577B34DA6A3CE929D0E0E4736"),
    ("span_id", "00f067aa0ba902b"), ("parent_span_id", "0" * 16),
    ("started_at", datetime(2026, 1, 1)), ("ended_at", T0 - timedelta(days=1)),
    ("organisation", ""), ("subject", None), ("reason", "nul\x00byte"),
    ("purpose", "lone \udc80 surrogate"), ("fields", "skills"), ("grants", ["ok", ""]),
    ("outcome", "maybe"), ("status", "fine"),
])
def test_an_invalid_entry_is_refused_naming_the_field(field, value):
    with pytest.raises(InvalidAuditEntry) as caught:
        entry(**{field: value})
    assert caught.value.field == field
    assert (caught.value.status, caught.value.code) == (500, "invalid-audit-entry")


@pytest.mark.parametrize(("field", "value"), [
    ("actor", ""), ("subjects", -1), ("subjects", True), ("result", "ok"),
    ("occurred_at", "2026-01-01T00:00:00Z"),
])
def test_an_invalid_access_record_is_refused_naming_the_field(field, value):
    with pytest.raises(InvalidAuditEntry) as caught:
        access(**{field: value})
    assert caught.value.field == field


# --- append and the tree ------------------------------------------------------------


def test_appends_get_contiguous_leaf_indices_and_the_log_verifies(log):
    assert log.verify().ok and log.head().size == 0
    assert log.head().root_hash == EMPTY_ROOT.hex()
    assert log.append(request(1, 1)) == [0, 1]
    assert log.append(request(2, 3)) == [2, 3, 4, 5]
    assert log.append([]) == []
    report = log.verify()
    assert report.ok and report.first_bad_index is None and report.problem is None
    assert (report.size, report.root_hash) == tuple(log.head())[:2]
    assert log.count() == 4  # processing entries; access records are not counted


def test_the_root_is_the_rfc_9162_root_of_the_records_canonical_bytes(log):
    records = filled(log, 5, 3)
    tree = MemoryTree()
    tree.append(leaf_hash(r.canonical_bytes()) for r in records)
    assert log.head().root_hash == tree.root().hex()


def test_stored_records_give_back_the_appended_entries_with_their_access_record(log):
    records = filled(log, 3, 2)
    read = log.entries()
    assert [r.entry for r in read] == [r for r in records if isinstance(r, AuditEntry)]
    assert [r.index for r in read] == [1, 2, 4, 5, 7, 8]
    assert all(r.access == records[r.index - r.index % 3] for r in read)
    assert [r.access.actor for r in read] == ["apikey:1"] * 2 + ["apikey:2"] * 2 + [
        "apikey:0"] * 2



@pytest.mark.parametrize("k", [127, 128, 129, 300])
def test_a_request_of_many_entries_is_stored_whole_in_order_and_verifies(log, k):
    # Rows go to the store in statements of many rows and a remainder: every row
    # must land at its own index, none twice and none lost.
    first = log.append(request(1, 2))
    records = request(2, k)
    assert log.append(records) == list(range(len(first), len(first) + k + 1))
    read = log.entries(offset=2, limit=1000)
    assert [r.entry for r in read] == records[1:]
    assert [r.index for r in read] == list(range(len(first) + 1, len(first) + k + 1))
    assert all(r.access == records[0] for r in read)
    assert log.record_at(len(first)) == records[0]
    assert log.verify().ok and log.count() == k + 2

texts = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
                min_size=1, max_size=30)
hex_ids = lambda n: st.text("0123456789abcdef", min_size=n, max_size=n).filter(  # noqa
    lambda s: s != "0" * n)
entries_strategy = st.builds(
    AuditEntry, trace_id=hex_ids(32), span_id=hex_ids(16),
    parent_span_id=st.none() | hex_ids(16), name=texts,
    started_at=st.datetimes(min_value=datetime(1900, 1, 2),
                            max_value=datetime(2200, 1, 1),
                            timezones=st.sampled_from([timezone.utc, timezone(
                                timedelta(hours=14))])),
    ended_at=st.just(datetime(2200, 1, 2, tzinfo=timezone.utc)),
    processing_activity=texts, organisation=texts, purpose=texts, subject=texts,
    subject_type=texts, fields=st.lists(texts, max_size=4),
    grants=st.lists(texts, max_size=3), outcome=st.sampled_from(["disclosed", "refused"]),
    status=st.sampled_from(["unset", "ok", "error"]), reason=texts)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(e=entries_strategy)
def test_any_valid_entry_survives_storage_unchanged_and_verifies(log, e):
    (index,) = log.append([e])
    (record,) = log.entries(offset=log.count() - 1, limit=1)
    assert record.index == index and record.entry == e and record.access is None
    assert log.verify().ok


# --- tampering with a record: named by its index -------------------------------------


@pytest.mark.parametrize("assignment", [
    "trace_id = 'ffffffffffffffffffffffffffffffff'", "span_id = 'ffffffffffffffff'",
    "parent_span_id = NULL", "name = 'other'", "started_at_ms = started_at_ms + 1",
    "processing_activity = 'vg:contact'", "organisation = 'GM0599'",
    "purpose = 'teamwork'", "subject = 'psn-9'", "subject_type = 'bsn'",
    'fields = \'["contact","level","skills"]\'', "grants = '[\"grant-forged\"]'",
    "outcome = 'refused'", "status = 'ok'", "reason = 'nothing to see'",
    # Same meaning, other bytes: not how append writes, so not written by append.
    'fields = \'["skills","level"]\'', 'fields = \'["level", "skills"]\'',
    "trace_id = '000000024BF92F3577B34DA6A3CE929D'", "fields = 'not json'",
])
def test_changing_any_column_of_an_entry_is_detected_at_its_index(
        log, engine, tables, assignment):
    filled(log, 4, 2)
    run_sql(engine, f"UPDATE {tables.entries.name} SET {assignment} WHERE idx = 4")
    assert_fails_at(log, 4, "entry 4")


@pytest.mark.parametrize("assignment", [
    "actor = 'apikey:99'", "role = 'dpo'", "occurred_at_ms = 0", "subjects = 7",
    "result = 'refused'", "target = 'assignment 99'",
])
def test_changing_any_column_of_an_access_record_is_detected_at_its_index(
        log, engine, tables, assignment):
    filled(log, 4, 2)
    run_sql(engine, f"UPDATE {tables.access.name} SET {assignment} WHERE idx = 6")
    assert_fails_at(log, 6, "entry 6")


def test_a_changed_entry_is_refused_when_read_back(log, engine, tables):
    filled(log, 2, 1)
    run_sql(engine, f"UPDATE {tables.entries.name} SET outcome = 'x' WHERE idx = 3")
    with pytest.raises(AuditError, match="entry 3"):
        log.entries()


@pytest.mark.parametrize(("table", "index"), [
    ("entries", 1), ("entries", 11), ("access", 0), ("access", 9)])
def test_deleting_a_record_is_detected_at_its_index(log, engine, tables, table, index):
    filled(log, 4, 2)
    name = getattr(tables, table).name
    run_sql(engine, f"DELETE FROM {name} WHERE idx = {index}")
    assert_fails_at(log, index, "missing")


def test_deleting_a_record_with_its_leaf_hash_is_detected(log, engine, tables):
    filled(log, 4, 2)
    leaves = _leaf_hashes(engine, tables)
    run_sql(engine, f"DELETE FROM {tables.entries.name} WHERE idx = 5")
    with engine.begin() as conn:
        conn.execute(tables.tiles.update().where(tables.tiles.c.level == 0).values(
            hashes=b"".join(leaves[:5] + leaves[6:])))
    assert_fails_at(log, 5, "missing")


def test_a_changed_leaf_hash_in_a_tile_is_detected_at_its_index(log, engine, tables):
    filled(log, 4, 2)
    leaves = _leaf_hashes(engine, tables)
    leaves[7] = leaf_hash(b"forged")
    with engine.begin() as conn:
        conn.execute(tables.tiles.update().where(tables.tiles.c.level == 0).values(
            hashes=b"".join(leaves)))
    assert_fails_at(log, 7, "entry 7 does not match its leaf hash")


def test_inserting_a_forged_entry_in_the_middle_is_detected_where_it_went(
        log, engine, tables):
    filled(log, 4, 2)
    name = tables.entries.name
    run_sql(engine,  # make room at idx 4 (two steps: idx is unique at every row)
            f"UPDATE {name} SET idx = -idx - 1 WHERE idx >= 4",
            f"UPDATE {name} SET idx = -idx WHERE idx < 0",
            f"UPDATE {tables.access.name} SET idx = idx + 1 WHERE idx >= 4")
    forged = entry(2, 7, subject="psn-forged")
    with engine.begin() as conn:
        conn.execute(tables.entries.insert().values(idx=4, **record_row(forged)))
    assert_fails_at(log, 4, "entry 4")


def test_an_extra_entry_after_the_head_is_detected(log, engine, tables):
    filled(log, 2, 1)
    with engine.begin() as conn:
        conn.execute(tables.entries.insert().values(idx=4, **record_row(entry(9))))
    assert_fails_at(log, 4, "beyond the head")


def test_a_record_filed_under_two_indices_is_detected(log, engine, tables):
    filled(log, 2, 1)
    with engine.begin() as conn:
        conn.execute(tables.access.insert().values(idx=1, **record_row(access(9))))
    assert_fails_at(log, 1, "twice")


def test_swapping_two_entries_is_detected_at_the_first(log, engine, tables):
    filled(log, 4, 2)
    name = tables.entries.name
    run_sql(engine, f"UPDATE {name} SET idx = -2 WHERE idx = 2",
            f"UPDATE {name} SET idx = 2 WHERE idx = 7",
            f"UPDATE {name} SET idx = 7 WHERE idx = -2")
    assert_fails_at(log, 2, "entry 2")


@pytest.mark.parametrize("assignment", [
    "size = size + 1", "size = size - 1", "root_hash = '" + "0" * 64 + "'",
    "pruned = size + 1"])
def test_tampering_with_the_head_row_is_detected(log, engine, tables, assignment):
    filled(log, 3, 1)
    run_sql(engine, f"UPDATE {tables.head.name} SET {assignment}")
    assert not log.verify().ok


def test_a_wrong_stored_subtree_hash_is_detected_at_its_place(log, engine, tables):
    filled(log, 32, 15)  # 512 leaves: two hashes at tree level 8, in tile 1/0
    tile = tables.tiles
    with engine.begin() as conn:
        data = conn.execute(select(tile.c.hashes).where(
            tile.c.level == 1, tile.c.number == 0)).scalar_one()
        conn.execute(tile.update().where(tile.c.level == 1, tile.c.number == 0)
                     .values(hashes=bytes(data)[:32] + b"\x01" * 32))
    assert_fails_at(log, 256, "level 8, position 1")


def test_a_stored_tile_above_the_top_of_the_tree_is_detected(log, engine, tables):
    filled(log, 4, 3)
    with engine.begin() as conn:
        conn.execute(tables.tiles.insert().values(level=1, number=0,
                                                  hashes=b"\x02" * 32))
    assert_fails_at(log, None, "beyond the head")


# --- rollback and rewrite: caught by signed checkpoints -----------------------------


def test_a_rollback_with_a_fixed_up_head_is_caught_by_a_saved_checkpoint(
        log, engine, tables):
    filled(log, 2, 2)  # 6 records
    early = log.head()
    log.append(request(3, 2))
    saved = log.checkpoint(T0)
    run_sql(engine,  # put the log back to 6 records, head and all
            f"DELETE FROM {tables.entries.name} WHERE idx >= 6",
            f"DELETE FROM {tables.access.name} WHERE idx >= 6",
            f"DELETE FROM {tables.checkpoints.name}")
    _truncate_tiles(engine, tables, 6)
    _set_head(engine, tables, early.size, early.root_hash, log)
    assert log.verify().ok  # consistent on its own: only a saved checkpoint can tell
    assert_fails_at(log, 6, "rolled back", checkpoint=saved)


def test_a_rollback_is_caught_by_the_checkpoints_the_log_signed(log, engine, tables):
    filled(log, 2, 2)
    early = log.head()
    log.append(request(3, 2))
    log.checkpoint(T0)
    run_sql(engine, f"DELETE FROM {tables.entries.name} WHERE idx >= 6",
            f"DELETE FROM {tables.access.name} WHERE idx >= 6")
    _truncate_tiles(engine, tables, 6)
    _set_head(engine, tables, early.size, early.root_hash, log)
    assert_fails_at(log, 6, "rolled back")


def test_rewriting_history_with_fresh_hashes_is_caught_and_placed_between_checkpoints(
        log, engine, tables):
    filled(log, 2, 2)
    log.checkpoint(T0)  # size 6
    log.append(request(3, 2))
    log.checkpoint(T0)  # size 9
    log.append(request(4, 2))
    saved = log.checkpoint(T0)  # size 12
    _rewrite(engine, tables, log, 7, entry(3, 0, subject="psn-someone-else"))
    report = log.verify(checkpoint=saved)
    assert not report.ok and "rewritten" in report.problem
    assert report.first_bad_index == 6 and "6 to 8" in report.problem


def test_a_rewrite_makes_the_log_refuse_to_sign_a_new_checkpoint(log, engine, tables):
    filled(log, 2, 2)
    log.checkpoint(T0)
    _rewrite(engine, tables, log, 2, entry(1, 1, subject="psn-x"))
    log.append(request(3, 1))
    with pytest.raises(AuditError) as caught:
        log.checkpoint(T0)
    assert caught.value.code == "checkpoint-refused"


def test_the_current_and_earlier_checkpoints_verify(log):
    filled(log, 2, 1)
    early = log.checkpoint(T0)
    log.append(request(3, 1))
    assert log.verify(checkpoint=early).ok
    report = log.verify(checkpoint=log.checkpoint(T0))
    assert report.ok and report.checkpoints == 2


def test_a_forged_stored_checkpoint_is_detected(log, engine, tables):
    filled(log, 2, 1)
    log.checkpoint(T0)
    run_sql(engine, f"UPDATE {tables.checkpoints.name} SET note = "
            f"replace(note, 'timestamp', 'timestamq')")
    assert_fails_at(log, None, "does not verify")


def _set_head(engine, tables, size: int, root: str, log: AuditLog) -> None:
    """Point the head back at ``size`` records, with a matching frontier."""
    tree = MemoryTree()
    tree.append(_leaf_hashes(engine, tables)[:size])
    frontier = "".join(h.hex() for h in tree.frontier)
    with engine.begin() as conn:
        conn.execute(tables.head.update().values(size=size, root_hash=root,
                                                 frontier=frontier))


def _leaf_hashes(engine, tables) -> list[bytes]:
    tile = tables.tiles
    with engine.connect() as conn:
        data = b"".join(bytes(h) for h in conn.execute(
            select(tile.c.hashes).where(tile.c.level == 0).order_by(tile.c.number)
        ).scalars())
    return [data[i:i + 32] for i in range(0, len(data), 32)]


def _write_tiles(conn, tables, leaves: list[bytes]) -> MemoryTree:
    """Replace every tile by the tiles of a tree of ``leaves``, as an intruder who
    recomputes the hashes would."""
    tree = MemoryTree()
    tree.append(leaves)
    conn.execute(tables.tiles.delete())
    conn.execute(tables.tiles.insert(), [
        {"level": level // 8, "number": number, "hashes": data,
         "nodes": inner_nodes(data) if len(data) == TILE_BYTES else None}
        for level in range(0, len(tree.levels), 8)
        for number, data in tiles_of(level, tree.levels[level])])
    return tree


def _truncate_tiles(engine, tables, size: int) -> None:
    leaves = _leaf_hashes(engine, tables)
    with engine.begin() as conn:
        _write_tiles(conn, tables, leaves[:size])


def _rewrite(engine, tables, log: AuditLog, index: int, replacement) -> None:
    """Replace one record and recompute every stored hash and the head, as an
    intruder with full database access would."""
    with engine.begin() as conn:
        table = tables.of(type(replacement))
        conn.execute(table.update().where(table.c.idx == index).values(
            **record_row(replacement)))
    leaves = _leaf_hashes(engine, tables)
    leaves[index] = leaf_hash(replacement.canonical_bytes())
    with engine.begin() as conn:
        tree = _write_tiles(conn, tables, leaves)
        conn.execute(tables.head.update().values(
            root_hash=tree.root().hex(),
            frontier="".join(h.hex() for h in tree.frontier)))


# --- failing appends (invariant 4: fail closed, nothing half-written) --------------


def _fail_rows(monkeypatch, log: AuditLog, table_name: str) -> None:
    """Make the bulk write of the records of ``table_name`` fail, after it wrote
    part of them, whichever way the backend writes them."""
    real = log._insert_rows

    def insert_rows(raw, table, rows):
        real(raw, table, rows[:1])
        if table.name == table_name:
            raise OSError("disk full (simulated)")
        real(raw, table, rows[1:])

    monkeypatch.setattr(log, "_insert_rows", insert_rows)
    real_entries = log._insert_entries

    def insert_entries(raw, runs):
        first = runs[0]
        real_entries(raw, [EntryRun(first.shared, first.members[:MEMBER_WIDTH])])
        if table_name == log.tables.entries.name:
            raise OSError("disk full (simulated)")
        real_entries(raw, [EntryRun(first.shared, first.members[MEMBER_WIDTH:]),
                           *runs[1:]])

    monkeypatch.setattr(log, "_insert_entries", insert_entries)


def _fail_after(monkeypatch, log: AuditLog, step: str) -> None:
    """Make an append fail once ``step`` (``_write_tiles``, ``_write_head``) has
    written what it writes, inside the transaction."""
    real = getattr(log, step)

    def failing(*args):
        real(*args)
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(log, step, failing)


def _fail_commit(monkeypatch, log: AuditLog) -> None:
    def failing(raw):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(log, "_commit", failing)


@pytest.mark.parametrize("where", ["entries", "access", "tiles", "head", "commit"])
def test_a_failure_inside_the_append_writes_nothing(log, tables, where, monkeypatch):
    filled(log, 2, 1)
    before = log.head()
    if where == "commit":
        _fail_commit(monkeypatch, log)
    elif where in ("entries", "access"):  # PostgreSQL writes them with COPY
        _fail_rows(monkeypatch, log, getattr(tables, where).name)
    else:
        _fail_after(monkeypatch, log, f"_write_{where}")
    try:
        with pytest.raises(AuditAppendFailed) as caught:
            log.append(request(3, 2))
    finally:
        monkeypatch.undo()
    assert (caught.value.status, caught.value.code) == (503, "audit-unavailable")
    assert isinstance(caught.value.__cause__, OSError)
    assert log.head() == before and log.count() == 2 and log.verify().ok
    assert log.append(request(3, 1)) == [4, 5]  # no lock or half transaction left


def _read_only_url(db_url: str) -> str:
    if db_url.startswith("sqlite"):
        return f"sqlite:///file:{db_url.removeprefix('sqlite:///')}?mode=ro&uri=true"
    url = make_url(db_url)
    options = url.query.get("options", "") + " -c default_transaction_read_only=on"
    return url.update_query_dict({"options": options.strip()}).render_as_string(
        hide_password=False)


def test_an_append_to_a_read_only_database_fails_and_changes_nothing(log, db_url,
                                                                      prefix):
    filled(log, 2, 1)
    before = log.head()
    read_only = make_engine(_read_only_url(db_url))
    try:
        with pytest.raises(AuditAppendFailed) as caught:
            AuditLog(read_only, prefix=prefix).append(request(3))
    finally:
        read_only.dispose()
    assert "read" in str(caught.value.__cause__).lower()
    assert log.head() == before and log.verify().ok


def test_an_unreachable_database_fails_appends_and_reads(backend, tmp_path):
    url = (f"sqlite:///{tmp_path}/no/such/dir/audit.db" if backend == "sqlite"
           else "postgresql+psycopg://postgres@127.0.0.1:1/test")
    unreachable = AuditLog(make_engine(url))
    with pytest.raises(AuditAppendFailed):
        unreachable.append(request(1))
    with pytest.raises(AuditUnavailable):
        unreachable.head()


def test_append_refuses_anything_but_records(log):
    with pytest.raises(InvalidAuditEntry):
        log.append([entry(1), {"actor": "x"}])  # type: ignore[list-item]
    assert log.count() == 0


# --- concurrency -------------------------------------------------------------------


def _append_batches(log: AuditLog, worker: int, start: threading.Barrier) -> list:
    start.wait()
    return [log.append(request(worker * 100 + i + 1, 2)) for i in range(15)]


def test_four_threads_appending_at_once_keep_indices_contiguous_and_the_tree_valid(
        log):
    start = threading.Barrier(5)
    with ThreadPoolExecutor(5) as pool:
        workers = [pool.submit(_append_batches, log, w, start) for w in range(4)]
        start.wait()
        verifies = [log.verify() for _ in range(4)]  # while the appends run
        batches = [batch for w in workers for batch in w.result()]
    assert all(b == list(range(b[0], b[0] + 3)) for b in batches)
    assert sorted(i for b in batches for i in b) == list(range(180))
    assert all(report.ok for report in verifies), verifies
    assert log.verify().ok and log.head().size == 180


def _slow_first_commit(monkeypatch, log: AuditLog, seconds: float,
                       fail: bool = False) -> dict:
    """Hold the first commit for a while, so that other appends queue up behind
    it (and optionally make that commit fail)."""
    state = {"commits": 0}
    real = log._commit

    def commit(raw):
        state["commits"] += 1
        if state["commits"] == 1:
            threading.Event().wait(seconds)
            if fail:
                raise OSError("disk full (simulated)")
        real(raw)

    monkeypatch.setattr(log, "_commit", commit)
    return state


def test_concurrent_appends_share_transactions_and_return_only_when_durable(
        log, engine, prefix, monkeypatch):
    state = _slow_first_commit(monkeypatch, log, 0.3)
    reader = AuditLog(engine, prefix=prefix)
    seen = []

    def one(n: int) -> None:
        indices = log.append(request(n, 2))
        seen.append(indices[-1] < reader.head().size)  # committed when it returns

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(1, 25)))
    assert all(seen) and len(seen) == 24
    assert state["commits"] < 24  # some requests shared a transaction
    assert log.head().size == 72 and log.verify().ok


def test_when_a_shared_transaction_fails_every_request_in_it_fails(log, monkeypatch):
    _slow_first_commit(monkeypatch, log, 0.3, fail=True)
    outcomes = []

    def one(n: int) -> None:
        try:
            outcomes.append(("ok", log.append(request(n, 1))))
        except AuditAppendFailed:
            outcomes.append(("failed", None))

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(one, range(1, 13)))
    written = sorted(i for kind, got in outcomes if kind == "ok" for i in got)
    assert ("failed", None) in outcomes
    assert written == list(range(len(written)))  # no gaps: failures wrote nothing
    assert log.head().size == len(written) and log.verify().ok


_WORKER = """
import sys
from tests.audit.records import request
from audit import AuditLog, make_engine
url, prefix, worker = sys.argv[1], sys.argv[2], int(sys.argv[3])
log = AuditLog(make_engine(url), prefix=prefix)
print("ready", flush=True)
sys.stdin.readline()
for i in range(40):
    print(*log.append(request(worker * 1000 + i + 1, 1)), flush=True)
"""


def test_two_processes_appending_at_once_keep_indices_contiguous_and_the_tree_valid(
        log, db_url, prefix):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, db_url, prefix, str(w)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                              env=env) for w in (1, 2)]
    for proc in procs:
        assert proc.stdout and proc.stdout.readline().strip() == "ready"
    for proc in procs:  # both are connected and waiting: start them together
        assert proc.stdin
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = [proc.communicate(timeout=120)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0]
    batches = [[int(s) for s in line.split()] for out in outputs
               for line in out.splitlines()]
    assert all(b == [b[0], b[0] + 1] for b in batches)
    assert sorted(i for b in batches for i in b) == list(range(160))
    assert log.verify().ok


# --- the engine --------------------------------------------------------------------


def test_make_engine_puts_sqlite_in_wal_mode_with_full_sync_and_a_busy_timeout(
        tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with engine.connect() as conn:
        pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa
        assert (pragma("journal_mode"), pragma("synchronous")) == ("wal", 2)
        assert pragma("busy_timeout") == 5000
        assert pragma("wal_autocheckpoint") == 10_000  # the thread does it sooner
    engine.dispose()


def test_appends_on_sqlite_have_the_wal_checkpointed_on_a_thread_of_their_own(
        tmp_path, monkeypatch):
    import threading
    import time

    from audit.wal import WalCheckpointer

    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    log = AuditLog(engine)
    log.create_tables()
    threads: list[str] = []
    real = WalCheckpointer._checkpoint

    def checkpoint(self):
        real(self)
        threads.append(threading.current_thread().name)

    monkeypatch.setattr(WalCheckpointer, "_checkpoint", checkpoint)
    log.append(request(1))
    deadline = time.monotonic() + 5
    while not threads and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threads and threads[0] == "audit-wal-checkpoint"
    assert threading.current_thread().name not in threads
    raw = engine.raw_connection()  # outside a transaction, which would hold a snapshot
    try:  # everything was copied into the database file already
        busy, frames, done = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        raw.close()
    assert busy == 0 and frames == done
    engine.dispose()


def test_make_engine_refuses_an_in_memory_sqlite_database():
    with pytest.raises(AuditError):
        make_engine("sqlite://")


@pytest.mark.parametrize("record", [entry(3), entry(4, parent_span_id=None),
                                    access(5)])
def test_the_fast_encoder_agrees_with_the_row_and_the_canonical_bytes(record):
    from audit.tables import encode
    row, canonical = encode(record)
    assert canonical == record.canonical_bytes()
    assert row == tuple(record_row(record).values())


access_strategy = st.builds(
    AccessRecord, trace_id=hex_ids(32), span_id=hex_ids(16),
    occurred_at=st.datetimes(min_value=datetime(1900, 1, 2),
                             max_value=datetime(2200, 1, 1), timezones=st.just(
                                 timezone(timedelta(hours=-3)))),
    actor=texts, organisation=texts, role=texts, action=texts, target=texts,
    result=st.sampled_from(["disclosed", "refused", "pruned"]), origin=texts,
    subjects=st.integers(min_value=0, max_value=2**40), reason=texts)


@settings(max_examples=300, deadline=None)
@given(record=entries_strategy | access_strategy)
def test_the_fast_encoder_gives_the_canonical_bytes_of_any_valid_record(record):
    from audit.tables import encode
    row, canonical = encode(record)
    assert canonical == record.canonical_bytes()
    assert row == tuple(record_row(record).values())


@settings(max_examples=100, deadline=None)
@given(records=st.lists(entries_strategy | access_strategy, max_size=6),
       repeats=st.lists(st.integers(min_value=0, max_value=5), max_size=6))
def test_encoding_a_request_at_once_gives_each_record_s_own_row_and_bytes(
        records, repeats):
    from audit.tables import encode_all
    # Records repeated and interleaved: values shared between them are converted
    # once per call, and each record must still get exactly its own encoding.
    batch = records + [records[i] for i in repeats if i < len(records)]
    encoded = encode_all(batch)
    assert [canonical for _, canonical in encoded] == [
        record.canonical_bytes() for record in batch]
    assert [row for row, _ in encoded] == [
        tuple(record_row(record).values()) for record in batch]


def test_records_of_one_request_sharing_values_each_encode_to_their_own_bytes():
    from audit.tables import encode_all
    batch = request(7, 4)
    batch.append(entry(8, parent_span_id=None))
    encoded = encode_all(batch)
    assert [c for _, c in encoded] == [r.canonical_bytes() for r in batch]
    assert len({c for _, c in encoded}) == len(batch)



def _tile_reads(monkeypatch, logs: tuple, action) -> list:
    """The tiles each log read from the store during ``action``."""
    seen: list = []
    for each in logs:
        monkeypatch.setattr(each, "_read_tiles", lambda conn, keys, real=each._read_tiles:
                            seen.append(list(keys)) or real(conn, keys))
    try:
        action()
    finally:
        monkeypatch.undo()
    return [keys for keys in seen if keys]


def test_an_append_reuses_the_partial_tiles_its_log_wrote_last(log, monkeypatch):
    assert _tile_reads(monkeypatch, (log,), lambda: log.append(request(1, 300))) == []
    assert _tile_reads(monkeypatch, (log,), lambda: log.append(request(2, 5))) == []
    assert log.verify().ok


def test_after_another_writer_appended_the_partial_tiles_are_read_again(
        log, engine, prefix, monkeypatch):
    other = AuditLog(engine, prefix=prefix, signer=SIGNER)  # as another process
    tree = MemoryTree()
    for n in range(1, 12):
        writer = (log, other)[n % 3 == 0]
        batch = request(n, 40)
        reads = _tile_reads(monkeypatch, (log, other), lambda: writer.append(batch))
        assert bool(reads) == (n > 1 and (n % 3 == 0 or n % 3 == 1)), n
        tree.append([leaf_hash(r.canonical_bytes()) for r in batch])
    assert log.verify().ok
    assert bytes.fromhex(log.head().root_hash) == tree.root()


def test_an_append_after_a_failed_one_reads_the_tiles_the_store_holds(
        log, engine, tables, monkeypatch):
    filled(log, 3, 90)
    _fail_rows(monkeypatch, log, tables.entries.name)
    with pytest.raises(AuditAppendFailed):
        log.append(request(4, 90))
    monkeypatch.undo()
    assert log.append(request(5, 90))[0] == 3 * 91
    assert log.verify().ok


def test_an_append_after_a_failed_commit_extends_the_head_the_store_holds(
        log, monkeypatch):
    """The head an append wrote is reused by the next one only once committed:
    after a COMMIT that failed, the next append builds on the stored head."""
    records = filled(log, 2, 5)
    monkeypatch.setattr(log, "_commit", lambda raw: (_ for _ in ()).throw(
        OSError("fsync failed (simulated)")))
    with pytest.raises(AuditAppendFailed):
        log.append(request(3, 7))
    monkeypatch.undo()
    batch = request(4, 5)
    assert log.append(batch)[0] == len(records)
    tree = MemoryTree()
    tree.append([leaf_hash(r.canonical_bytes()) for r in [*records, *batch]])
    assert bytes.fromhex(log.head().root_hash) == tree.root()
    assert log.verify().ok
