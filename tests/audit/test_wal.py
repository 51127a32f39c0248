"""The WAL checkpoint thread runs a checkpoint when commits come in, then waits
for the interval or for enough records, whichever is first, and keeps its spacing."""

from __future__ import annotations

import threading

from audit.wal import WalCheckpointer


class Counting(WalCheckpointer):
    """A checkpointer whose checkpoints only count (no database)."""

    def __init__(self, **options) -> None:
        super().__init__(None, **options)  # type: ignore[arg-type]
        self.count = 0
        self.ran = threading.Semaphore(0)

    def _checkpoint(self) -> None:
        self.count += 1
        self.ran.release()


def test_the_first_commit_is_checkpointed_at_once():
    checkpointer = Counting(interval_s=30, records=100)
    checkpointer.nudge(1)
    assert checkpointer.ran.acquire(timeout=5)


def test_commits_within_the_interval_wait_for_it():
    checkpointer = Counting(interval_s=30, records=100, idle_s=60)
    checkpointer.nudge(1)
    assert checkpointer.ran.acquire(timeout=5)
    checkpointer.nudge(50)
    assert not checkpointer.ran.acquire(timeout=0.3)
    assert checkpointer.count == 1


def test_enough_records_are_checkpointed_before_the_interval_ends():
    checkpointer = Counting(interval_s=30, records=100, idle_s=60)
    checkpointer.nudge(1)
    assert checkpointer.ran.acquire(timeout=5)
    checkpointer.nudge(60)
    checkpointer.nudge(60)
    assert checkpointer.ran.acquire(timeout=5)
    assert checkpointer.count == 2


def test_commits_after_the_interval_are_checkpointed():
    checkpointer = Counting(interval_s=0.05, records=100, idle_s=60)
    checkpointer.nudge(1)
    assert checkpointer.ran.acquire(timeout=5)
    checkpointer.nudge(1)
    assert checkpointer.ran.acquire(timeout=5)


def test_checkpoints_keep_their_spacing_however_many_records_come():
    checkpointer = Counting(interval_s=30, records=10, spacing_s=30, idle_s=60)
    checkpointer.nudge(1)
    assert checkpointer.ran.acquire(timeout=5)
    checkpointer.nudge(50)
    assert not checkpointer.ran.acquire(timeout=0.3)
    assert checkpointer.count == 1
