"""Proofs from the stored tree verify with nothing but the published checkpoint and
the log's verifier key; retention prunes records and keeps everything verifiable."""

from __future__ import annotations

import base64
import random
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from audit import (
    AuditAppendFailed,
    AuditError,
    AuditEntry,
    AuditLog,
    InvalidAuditQuery,
    NoSuchEntry,
)
from audit.merkle import (
    MemoryTree,
    ProofError,
    inclusion_proof,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from audit.note import Checkpoint, open_checkpoint, verify_proof
from tests.audit.conftest import SIGNER
from tests.audit.records import T0, access, filled, request


def test_every_inclusion_proof_verifies_against_the_signed_checkpoint(log):
    records = filled(log, 7, 2)  # 21 leaves
    checkpoint = open_checkpoint(log.checkpoint(T0), SIGNER.verifier,
                                 "test.example/audit")
    assert checkpoint.size == 21
    for index, record in enumerate(records):
        proof = log.inclusion(index, checkpoint.size)
        verify_inclusion(index, 21, leaf_hash(record.canonical_bytes()), proof.hashes,
                         checkpoint.root)
        with pytest.raises(ProofError):
            verify_inclusion(index, 21, leaf_hash(b"forged"), proof.hashes,
                             checkpoint.root)


def test_several_proofs_come_from_one_read_and_equal_single_proofs(log):
    filled(log, 5, 3)
    size = log.head().size
    together = log.inclusions([0, 7, 19], size)
    assert {i: p.hashes for i, p in together.items()} == {
        i: log.inclusion(i, size).hashes for i in (0, 7, 19)}


def test_proofs_after_more_appends_read_the_grown_partial_tile_not_an_old_copy(log):
    # 250 leaves, then 10 more: tile 0/0 is partial, then full, and tile 0/1
    # begins; every proof in between must verify against the head of its time.
    records = filled(log, 125, 1)
    for more in (0, 10):
        records += filled_after(log, len(records), more)
        size = log.head().size
        root = bytes.fromhex(log.head().root_hash)
        for index in (0, 129, size - 1):
            proof = log.inclusion(index, size)
            verify_inclusion(index, size, leaf_hash(records[index].canonical_bytes()),
                             proof.hashes, root)


def filled_after(log, start: int, requests: int) -> list:
    records = []
    for n in range(requests):
        batch = request(1000 + start + n, 0)
        log.append(batch)
        records.extend(batch)
    return records


def test_a_tlog_proof_is_self_contained_and_verifies_offline(log):
    records = filled(log, 3, 2)
    log.checkpoint(T0)
    text = log.proof_text(4)
    assert text.startswith("c2sp.org/tlog-proof@v1\nindex 4\n")
    assert verify_proof(text, records[4].canonical_bytes(), SIGNER.verifier).size == 9


def test_a_consistency_proof_links_two_checkpoints(log):
    filled(log, 3, 2)
    old = open_checkpoint(log.checkpoint(T0), SIGNER.verifier)
    log.append(request(9, 4))
    new = open_checkpoint(log.checkpoint(T0), SIGNER.verifier)
    proof = log.consistency(old.size, new.size)
    verify_consistency(old.size, new.size, old.root, new.root, proof.hashes)
    assert proof.to_json()["hashes"] == [base64.b64encode(h).decode()
                                         for h in proof.hashes]


def test_a_checkpoint_is_signed_once_per_tree_size(log):
    filled(log, 2, 1)
    first = log.checkpoint(T0)
    assert log.checkpoint(T0 + timedelta(hours=1)) == first
    assert "timestamp 2026-03-02T09:00:00.000Z" in first
    assert log.latest_checkpoint() == first


def test_a_checkpoint_of_a_tree_that_has_not_grown_is_served_without_a_commit(
        log, engine, tables):
    filled(log, 2, 1)
    first = log.checkpoint(T0)
    commits: list[object] = []
    event.listen(engine, "commit", commits.append)

    again = [log.checkpoint(T0 + timedelta(minutes=m)) for m in (1, 2, 3)]

    assert again == [first] * 3 and commits == []
    log.append(request(3, 1))  # commits on the driver's connection, not counted
    grown = log.checkpoint(T0 + timedelta(minutes=4))
    assert grown != first and "timestamp 2026-03-02T09:04:00.000Z" in grown
    assert log.checkpoint(T0 + timedelta(minutes=5)) == grown
    assert len(commits) == 1  # the new checkpoint's
    with engine.connect() as conn:
        sizes = conn.execute(select(tables.checkpoints.c.size)).scalars().all()
    assert sorted(sizes) == [4, 6]


def test_a_checkpoint_whose_root_is_not_the_head_s_is_still_refused(
        log, engine, tables):
    filled(log, 2, 1)
    log.checkpoint(T0)
    with engine.begin() as conn:
        conn.execute(tables.checkpoints.update().values(root_hash="00" * 32))
    with pytest.raises(AuditError) as caught:
        log.checkpoint(T0)
    assert caught.value.code == "checkpoint-refused"


@pytest.mark.parametrize(("call", "error"), [
    (lambda log: log.inclusion(99), NoSuchEntry),
    (lambda log: log.inclusion(-1), NoSuchEntry),
    (lambda log: log.inclusion(0, 99), InvalidAuditQuery),
    (lambda log: log.consistency(0, 3), InvalidAuditQuery),
    (lambda log: log.consistency(5, 99), InvalidAuditQuery),
])
def test_a_proof_out_of_range_is_a_clear_error(log, call, error):
    filled(log, 2, 1)
    with pytest.raises(error):
        call(log)


# --- retention ---------------------------------------------------------------------


def test_pruning_deletes_old_records_and_the_log_still_verifies(log):
    records = filled(log, 6, 2)  # requests at T0 + 1..6 minutes
    saved = log.checkpoint(T0)
    deleted = log.prune(T0 + timedelta(minutes=4), now=T0 + timedelta(days=800))
    assert deleted == 9  # three requests of three records
    head = log.head()
    assert head.pruned == 9 and head.size == 19  # the pruning is itself a record
    assert [r.index for r in log.entries()] == [10, 11, 13, 14, 16, 17]
    report = log.verify(checkpoint=saved)
    assert report.ok and report.pruned == 9
    checkpoint = open_checkpoint(log.checkpoint(T0), SIGNER.verifier)
    proof = log.inclusion(10, checkpoint.size)  # proofs still reach pruned siblings
    verify_inclusion(10, checkpoint.size, leaf_hash(records[10].canonical_bytes()),
                     proof.hashes, checkpoint.root)


def test_the_pruning_is_logged_as_an_access_record(log, engine, tables):
    filled(log, 3, 1)
    log.prune(T0 + timedelta(minutes=3), now=T0 + timedelta(days=800))
    with engine.connect() as conn:
        row = conn.execute(tables.access.select().where(
            tables.access.c.idx == 6)).mappings().one()
    assert (row["action"], row["result"], row["subjects"]) == ("prune", "pruned", 4)
    assert log.prune(T0 + timedelta(minutes=3), now=T0) == 0


def test_a_record_deleted_from_the_kept_part_is_still_detected_after_pruning(
        log, engine, tables):
    from sqlalchemy import text
    filled(log, 4, 1)
    log.prune(T0 + timedelta(minutes=2, seconds=30), now=T0)
    with engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {tables.entries.name} WHERE idx = 5"))
    report = log.verify()
    assert not report.ok and report.first_bad_index == 5


def test_pruning_stops_at_a_newer_access_record_that_has_no_entries(log):
    # A refusal without subjects is an access record alone: it is kept, and so
    # is everything after it, however old those entries are.
    filled(log, 2, 2)  # requests at T0 + 1 and 2 minutes, indices 0-5
    log.append([access(9, subjects=0, result="refused")])  # index 6
    log.append(request(3, 2))  # indices 7-9, made at T0 + 3 minutes
    assert log.prune(T0 + timedelta(minutes=4), now=T0) == 6
    assert log.head().pruned == 6
    assert [r.index for r in log.entries()] == [8, 9]
    assert log.prune(T0 + timedelta(minutes=4), now=T0) == 0  # starts at 6
    assert log.verify().ok


def test_prune_refuses_a_naive_time(log):
    from datetime import datetime
    with pytest.raises(InvalidAuditQuery):
        log.prune(datetime(2026, 1, 1), now=T0)


def test_checkpoint_text_round_trips_through_parse():
    checkpoint = Checkpoint("test.example/audit", 3, bytes(32))
    assert Checkpoint.parse(checkpoint.text() + "timestamp x\n") == checkpoint
    assert AuditEntry.kind == "processing"


# --- the tile cache ----------------------------------------------------------------


def statements_during(engine, action) -> list[str]:
    from sqlalchemy import event

    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def test_a_proof_whose_tiles_are_cached_reads_nothing_from_the_database(log, engine):
    records = filled(log, 140, 1)  # 280 leaves: one full leaf tile, one partial
    size = log.head().size
    root = bytes.fromhex(log.head().root_hash)
    first = log.inclusion(3, size)
    assert len(statements_during(engine, lambda: log.inclusion(3, size))) == 0
    again = log.inclusion(3, size)
    assert again.hashes == first.hashes
    verify_inclusion(3, size, leaf_hash(records[3].canonical_bytes()), again.hashes,
                     root)


def test_a_size_beyond_the_head_is_refused_even_when_every_tile_is_cached(log):
    filled(log, 140, 1)
    size = log.head().size
    log.inclusion(3, size)
    log.consistency(10, size)
    with pytest.raises(InvalidAuditQuery):
        log.inclusion(3, size + 1)
    with pytest.raises(InvalidAuditQuery):
        log.consistency(10, size + 1)


def test_a_cached_partial_tile_is_read_again_when_a_proof_needs_more_of_it(log):
    records = filled(log, 5, 1)  # 10 leaves
    log.inclusion(0, 10)  # caches leaf tile 0 with 10 hashes
    records += filled_after(log, len(records), 3)
    size = log.head().size
    root = bytes.fromhex(log.head().root_hash)
    for index in (0, 9, size - 1):
        proof = log.inclusion(index, size)
        verify_inclusion(index, size, leaf_hash(records[index].canonical_bytes()),
                         proof.hashes, root)


# --- the heads a process remembers --------------------------------------------------


def _records_by_index(log, requests: list[list]) -> list:
    records: list = []
    for batch in requests:
        assert log.append(batch)[0] == len(records)
        records += batch
    return records


def test_a_head_whose_commit_failed_never_gives_a_proof(log, monkeypatch):
    records = _records_by_index(log, [request(n, 3) for n in range(1, 4)])  # 12
    assert log.inclusion(5, 12).size == 12  # the head of 12 and its tiles cached

    def fail(raw):
        raise OSError("disk full (simulated)")

    with monkeypatch.context() as patch:
        patch.setattr(log, "_commit", fail)
        with pytest.raises(AuditAppendFailed):
            log.append(request(4, 3))  # would have made 16
    for index in (0, 5, 11):
        with pytest.raises(InvalidAuditQuery):
            log.inclusion(index, 16)
    root = bytes.fromhex(log.head().root_hash)
    verify_inclusion(5, 12, leaf_hash(records[5].canonical_bytes()),
                     log.inclusion(5, 12).hashes, root)


def test_a_log_rolled_back_behind_a_process_gets_no_proof_for_its_lost_size(
        log, engine, tables):
    records = _records_by_index(log, [request(n, 59) for n in range(1, 11)])  # 600
    saved = log.head()
    log.inclusion(5, saved.size)  # this process now knows the head of 600
    _keep_first(engine, tables, 560)  # tiles and head, as a restored backup
    # Leaf 300's own tile is complete in both trees, the right edge of 600 is
    # known: only the head read with the tile can tell that 600 is gone.
    with pytest.raises(InvalidAuditQuery):
        log.inclusion(300, saved.size)
    proof = log.inclusion(300, 560)
    verify_inclusion(300, 560, leaf_hash(records[300].canonical_bytes()),
                     proof.hashes, bytes.fromhex(log.head().root_hash))


def _keep_first(engine, tables, size: int) -> None:
    from audit.tiles import TILE_BYTES, inner_nodes, tiles_of
    with engine.connect() as conn:
        data = b"".join(bytes(row.hashes) for row in conn.execute(
            select(tables.tiles.c.hashes).where(tables.tiles.c.level == 0)
            .order_by(tables.tiles.c.number)))
    tree = MemoryTree()
    tree.append([data[i:i + 32] for i in range(0, 32 * size, 32)])
    with engine.begin() as conn:
        conn.execute(tables.tiles.delete())
        conn.execute(tables.tiles.insert(), [
            {"level": level // 8, "number": number, "hashes": hashes,
             "nodes": inner_nodes(hashes) if len(hashes) == TILE_BYTES else None}
            for level in range(0, len(tree.levels), 8)
            for number, hashes in tiles_of(level, tree.levels[level])])
        conn.execute(tables.head.update().values(
            size=size, root_hash=tree.root().hex(),
            frontier="".join(h.hex() for h in tree.frontier)))


def test_proofs_stay_exact_while_another_process_appends(log, engine, prefix):
    writer = AuditLog(engine, prefix=prefix, signer=SIGNER)  # as another process
    records = _records_by_index(writer, [request(n, 20) for n in range(1, 15)])
    done = threading.Event()

    def append_more() -> None:
        n = 100
        while not done.is_set() and n < 160:
            batch = request(n, 7)
            index = writer.append(batch)[0]
            records[index:index + len(batch)] = batch
            n += 1

    appender = threading.Thread(target=append_more)
    appender.start()
    rng = random.Random(4)
    checked = 0
    try:
        while appender.is_alive() or checked < 40:
            note = log.checkpoint(T0)  # the head, as the routes take it
            checkpoint = open_checkpoint(note, SIGNER.verifier)
            for index in rng.sample(range(checkpoint.size), 5):
                proof = log.inclusion(index, checkpoint.size)
                verify_inclusion(index, checkpoint.size,
                                 leaf_hash(records[index].canonical_bytes()),
                                 proof.hashes, checkpoint.root)
                checked += 1
            if checked >= 400:
                break
    finally:
        done.set()
        appender.join()
    size = log.head().size
    fresh = AuditLog(engine, prefix=prefix)  # no cache, no remembered head
    tree = MemoryTree()
    tree.append([leaf_hash(r.canonical_bytes()) for r in records[:size]])
    for index in range(0, size, 7):
        expected = inclusion_proof(index, size, tree.node)
        assert log.inclusion(index, size).hashes == expected
        assert fresh.inclusion(index, size).hashes == expected


# --- every pruned prefix is backed by a logged, signed prune -------------------------


def _delete_before(engine, tables, cutoff: int) -> None:
    """What a tamperer does: delete the first records and raise the head's count."""
    from sqlalchemy import text
    with engine.begin() as conn:
        for table in (tables.entries, tables.access, tables.subjects):
            conn.execute(text(f"DELETE FROM {table.name} WHERE idx < {cutoff}"))
        conn.execute(text(f"UPDATE {tables.head.name} SET pruned = {cutoff}"))


def test_records_deleted_under_a_raised_pruned_count_are_reported_as_tampering(
        log, engine, tables):
    filled(log, 4, 1)  # 8 records, minutes old
    log.checkpoint(T0)
    _delete_before(engine, tables, 6)
    report = log.verify()
    assert not report.ok and report.first_bad_index == 0
    assert "entries 0 to 5" in report.problem and "prune record" in report.problem


def test_records_deleted_beyond_a_logged_prune_are_reported_from_its_cut(
        log, engine, tables):
    filled(log, 6, 2)
    log.prune(T0 + timedelta(minutes=2, seconds=30), now=T0 + timedelta(days=800))
    assert log.head().pruned == 6 and log.verify().ok
    _delete_before(engine, tables, 10)
    report = log.verify()
    assert not report.ok and report.first_bad_index == 6
    assert "entries 6 to 9" in report.problem


def test_a_pruned_count_lowered_below_the_logged_prune_is_tampering(
        log, engine, tables):
    from sqlalchemy import text
    filled(log, 4, 1)
    log.prune(T0 + timedelta(minutes=2, seconds=30), now=T0 + timedelta(days=800))
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {tables.head.name} SET pruned = 2"))
    report = log.verify()
    assert not report.ok and report.first_bad_index == 2


def test_a_prune_record_appended_without_the_key_is_reported_as_tampering(
        log, engine, tables):
    # Anyone who can write the database can append a record and recompute the
    # hashes; only the log's key signs a prune record.
    filled(log, 4, 1)
    log.checkpoint(T0)
    _delete_before(engine, tables, 6)
    forged = access(99, actor="system:retention", organisation="platform",
                    role="system", action="prune", result="pruned",
                    origin="system", subjects=6,
                    target="records before index 6, made before "
                           "2024-01-01T00:00:00.000Z",
                    occurred_at=T0 + timedelta(days=800),
                    reason="retention period of the audit log passed")
    assert log.append([forged]) == [8]
    report = log.verify()
    assert not report.ok and report.first_bad_index == 8
    assert "not signed with the log's key" in report.problem


def test_a_prune_signature_moved_to_another_place_does_not_verify(
        log, engine, tables):
    from sqlalchemy import text
    filled(log, 4, 1)
    log.prune(T0 + timedelta(minutes=2, seconds=30), now=T0 + timedelta(days=800))
    with engine.connect() as conn:
        reason = conn.execute(text(f"SELECT reason FROM {tables.access.name} "
                                   "WHERE idx = 8")).scalar()
    assert reason.startswith("retention period of the audit log passed; signed by "
                             "test.example/audit ")
    _delete_before(engine, tables, 9)  # then the prune record itself
    copied = access(99, actor="system:retention", organisation="platform",
                    role="system", action="prune", result="pruned",
                    origin="system", subjects=9,
                    target="records before index 9, made before "
                           "2026-03-02T09:02:30.000Z",
                    occurred_at=T0 + timedelta(days=800), reason=reason)
    assert log.append([copied]) == [9]
    report = log.verify()
    assert not report.ok and report.first_bad_index == 9


def test_a_prune_record_that_was_pruned_itself_is_vouched_for_by_the_next(log):
    filled(log, 3, 1)  # indices 0-5, at T0 + 1..3 minutes
    log.prune(T0 + timedelta(minutes=2, seconds=30), now=T0 + timedelta(days=800))
    log.append(request(900, 1))  # indices 7-8, made long after the prune
    log.prune(T0 + timedelta(days=850), now=T0 + timedelta(days=1600))
    head = log.head()
    assert head.pruned == 9  # the first prune record (index 6) is gone too
    assert log.verify(retention=timedelta(days=730)).ok


def test_a_prune_at_a_time_outside_utc_still_verifies(log):
    from datetime import timezone
    amsterdam = timezone(timedelta(hours=1))
    filled(log, 4, 1)
    log.prune(T0 + timedelta(minutes=3),
              now=(T0 + timedelta(days=800, microseconds=1500)).astimezone(amsterdam))
    assert log.verify(retention=timedelta(days=730)).ok


def test_a_prune_younger_than_the_retention_period_is_reported_where_it_is(log):
    filled(log, 4, 1)
    log.prune(T0 + timedelta(minutes=3), now=T0 + timedelta(days=10, minutes=3))
    assert log.verify().ok  # the log alone does not know the period
    assert log.verify(retention=timedelta(days=10)).ok
    report = log.verify(retention=timedelta(days=730))
    assert not report.ok and report.first_bad_index == 8
    assert "retention period" in report.problem
