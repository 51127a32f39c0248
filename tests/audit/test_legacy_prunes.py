"""A log pruned before prune records were signed still verifies where a signed
checkpoint covers its unsigned prune record; where none does, verify and the
next checkpoint refuse it and name the record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from audit import CheckpointRefused
from audit.merkle import MemoryTree
from audit.note import Checkpoint
from audit.subject_index import catch_up
from tests.audit.conftest import SIGNER
from tests.audit.records import T0, access, filled

OLD_REASON = "retention period of the audit log passed"


def _old_prune(log, engine, tables, cutoff: int) -> int:
    """Prune the records before ``cutoff`` as the code before signed prune
    records did: delete them, raise the head's count and append a prune record
    whose target names only the cut and whose reason carries no signature."""
    with engine.begin() as conn:
        for table in (tables.entries, tables.access, tables.subjects,
                      tables.keys, tables.access_keys):
            conn.execute(text(f"DELETE FROM {table.name} WHERE idx < {cutoff}"))
        conn.execute(text(f"UPDATE {tables.head.name} SET pruned = {cutoff}"))
    record = access(99, actor="system:retention", organisation="platform",
                    role="system", action="prune", result="pruned",
                    origin="system", subjects=cutoff,
                    target=f"records before index {cutoff}",
                    occurred_at=T0 + timedelta(days=800), reason=OLD_REASON)
    return log.append([record])[0]


def _old_checkpoint(log, engine, tables) -> None:
    """Sign the head as the code before signed prune records did: it signed any
    tree consistent with the last checkpoint, unsigned prune records and all."""
    head = log.head()
    root = bytes.fromhex(head.root_hash)
    note = SIGNER.sign(Checkpoint(SIGNER.name, head.size, root).text()
                       + f"timestamp {T0.isoformat()[:19]}.000Z\n")
    with engine.begin() as conn:
        conn.execute(tables.checkpoints.insert().values(
            size=head.size, root_hash=root.hex(), note=note, signed_at_ms=0))


def test_an_old_prune_covered_by_a_signed_checkpoint_verifies(log, engine, tables):
    filled(log, 4, 1)  # 8 records
    assert _old_prune(log, engine, tables, 6) == 8
    _old_checkpoint(log, engine, tables)

    report = log.verify(retention=timedelta(days=365))

    assert report.ok, report.problem
    assert report.pruned == 6 and report.size == 9


def test_an_old_prune_stays_proven_as_the_log_grows_and_is_checkpointed(
        log, engine, tables):
    filled(log, 4, 1)
    _old_prune(log, engine, tables, 6)
    _old_checkpoint(log, engine, tables)
    log.append([access(200)])

    log.checkpoint(T0 + timedelta(days=801))  # the old prune is covered already

    assert log.verify().ok


def test_a_later_signed_prune_may_follow_an_old_one(log, engine, tables):
    filled(log, 4, 1)
    _old_prune(log, engine, tables, 6)
    _old_checkpoint(log, engine, tables)
    log.append([access(900)])  # index 9, made long after the first prune

    log.prune(T0 + timedelta(days=850), now=T0 + timedelta(days=1600))

    report = log.verify()
    assert report.ok, report.problem
    assert report.pruned == 10


def test_an_old_prune_no_signed_checkpoint_covers_is_reported_where_it_is(
        log, engine, tables):
    filled(log, 4, 1)
    log.checkpoint(T0)  # size 8: signed before the prune record was appended
    _old_prune(log, engine, tables, 6)

    report = log.verify()

    assert not report.ok and report.first_bad_index == 8
    assert "prune record at 8" in report.problem
    assert "no signed checkpoint covers it" in report.problem


def test_a_checkpoint_over_an_unsigned_prune_record_is_refused(log, engine, tables):
    filled(log, 4, 1)
    log.checkpoint(T0)
    _old_prune(log, engine, tables, 6)  # as a tamperer would now, without the key
    log.append([access(300)])

    with pytest.raises(CheckpointRefused) as refused:
        log.checkpoint(T0 + timedelta(days=801))

    assert "prune record at 8" in str(refused.value)
    assert log.latest_checkpoint() is not None
    assert log.verify().first_bad_index == 8  # nothing was signed


def test_a_checkpoint_over_an_unsigned_prune_record_in_the_indexed_part_is_refused(
        log, engine, tables):
    filled(log, 4, 1)
    log.checkpoint(T0)
    _old_prune(log, engine, tables, 6)
    log.append([access(400 + n) for n in range(3)])
    assert catch_up(engine, tables)[1] == 12  # the prune record lies below the mark

    with pytest.raises(CheckpointRefused):
        log.checkpoint(T0 + timedelta(days=801))


def test_pruned_hashes_changed_under_an_old_prune_are_still_reported(
        log, engine, tables):
    filled(log, 4, 1)
    _old_prune(log, engine, tables, 6)
    _old_checkpoint(log, engine, tables)
    with engine.begin() as conn:  # a pruned leaf hash rewritten, tree recomputed
        tile = bytes(conn.execute(text(f"SELECT hashes FROM {tables.tiles.name} "
                                       "WHERE level = 0 AND number = 0")).scalar())
        leaves = [b"\x01" * 32] + [tile[i:i + 32] for i in range(32, len(tile), 32)]
        tree = MemoryTree()
        tree.append(leaves)
        conn.execute(tables.tiles.update().where(tables.tiles.c.level == 0)
                     .values(hashes=b"".join(leaves)))
        conn.execute(tables.head.update().values(
            root_hash=tree.root().hex(),
            frontier="".join(h.hex() for h in tree.frontier)))

    report = log.verify()

    assert not report.ok and report.first_bad_index == 0
    assert "signed checkpoint of size 9" in report.problem
