"""The head's frontier is the right edge every later append and proof grows from:
verification must notice a frontier that the entries do not give, before the next
append builds on it, and not report the log whole."""

from __future__ import annotations

from sqlalchemy import select, update

from tests.audit.records import T0, filled


def test_a_head_frontier_changed_without_its_root_fails_verification(log, engine,
                                                                      tables):
    filled(log, 4, 1)
    log.checkpoint(T0)
    with engine.begin() as conn:
        frontier = conn.execute(select(tables.head.c.frontier)).scalar_one()
        conn.execute(update(tables.head).values(
            frontier=frontier[:-64] + "0" * 64))

    report = log.verify()

    assert not report.ok, report


def test_a_checkpoint_row_whose_root_differs_from_its_note_fails_verification(
        log, engine, tables):
    """Signing the next checkpoint checks the tree against the last one's stored
    root: a root changed there refuses every later checkpoint ("run verify"), so
    verification must name it rather than report the log whole."""
    filled(log, 4, 1)
    log.checkpoint(T0)
    with engine.begin() as conn:
        root = conn.execute(select(tables.checkpoints.c.root_hash)).scalar_one()
        conn.execute(update(tables.checkpoints).values(root_hash="00" + root[2:]))

    report = log.verify()

    assert not report.ok, report
