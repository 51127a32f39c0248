"""A request's answer is made while its records are committed, and handed back
only once they are durable (invariant 4); a failed append drops it."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from audit import AuditAppendFailed, AuditLog
from audit.overlap import Helper, Overlapped
from tests.audit.records import request


def _commit_waiting_for(monkeypatch, log: AuditLog, started: threading.Event,
                        seen: dict) -> None:
    """A commit that waits (at most 5 s) for the work to start before it writes."""
    real = log._commit

    def commit(raw):
        seen["work_started_before_commit"] = started.wait(5)
        real(raw)
        seen["committed_at"] = time.perf_counter()

    monkeypatch.setattr(log, "_commit", commit)


def test_the_answer_is_made_on_another_thread_while_the_commit_is_on_disk(
        log, monkeypatch):
    started, seen = threading.Event(), {}
    _commit_waiting_for(monkeypatch, log, started, seen)

    def answer() -> str:
        started.set()
        seen["thread"] = threading.get_ident()
        return "the page"

    assert log.append_while(request(1, 3), answer) == "the page"
    assert seen["work_started_before_commit"] is True
    assert seen["thread"] != threading.get_ident()
    assert log.head().size == 4 and log.verify().ok


def test_the_answer_is_handed_back_only_once_its_records_are_durable(
        log, engine, prefix, monkeypatch):
    real = log._commit
    reader = AuditLog(engine, prefix=prefix)

    def slow_commit(raw):
        time.sleep(0.2)
        real(raw)

    monkeypatch.setattr(log, "_commit", slow_commit)
    answer = log.append_while(request(1, 2), lambda: reader.head().size)
    assert answer == 0  # made before the commit ...
    assert reader.head().size == 3  # ... handed back after it


def test_a_failed_append_drops_the_answer(log, monkeypatch):
    filled_before = log.head()

    def failing(raw):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(log, "_commit", failing)
    with pytest.raises(AuditAppendFailed) as caught:
        log.append_while(request(1, 2), lambda: "the page")
    monkeypatch.undo()
    assert isinstance(caught.value.__cause__, OSError)
    assert log.head() == filled_before and log.head().size == 0


def test_an_error_of_the_answer_is_raised_once_the_records_are_durable(log):
    def broken() -> str:
        raise ValueError("no answer")

    with pytest.raises(ValueError, match="no answer"):
        log.append_while(request(1, 1), broken)
    assert log.head().size == 2 and log.verify().ok


def test_without_records_the_answer_is_made_at_once_and_nothing_is_logged(log):
    assert log.append_while([], lambda: "nothing shown") == "nothing shown"
    assert log.head().size == 0


def test_requests_sharing_a_commit_each_get_their_own_answer_made_once(
        log, monkeypatch):
    real = log._commit
    made: list[int] = []

    def slow_commit(raw):
        time.sleep(0.05)
        real(raw)

    monkeypatch.setattr(log, "_commit", slow_commit)

    def one(n: int) -> int:
        def answer() -> int:
            made.append(n)
            return n
        return log.append_while(request(n, 2), answer)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(one, range(1, 25)))
    assert answers == list(range(1, 25))
    assert sorted(made) == answers  # each made once, whoever made it
    assert log.head().size == 72 and log.verify().ok


def test_work_claimed_by_two_threads_runs_once():
    runs: list[int] = []
    gate = threading.Event()

    def work() -> str:
        gate.wait(5)
        runs.append(1)
        return "done"

    overlapped = Overlapped(work)
    helper = Helper(idle_s=0.1)
    helper.hand(overlapped)
    time.sleep(0.05)
    gate.set()
    assert overlapped.result() == "done"
    overlapped.run()
    assert runs == [1]


def test_the_helper_thread_ends_when_idle_and_starts_again_when_handed_work():
    helper = Helper(idle_s=0.05)
    first = Overlapped(lambda: 1)
    helper.hand(first)
    assert first.result() == 1
    deadline = time.monotonic() + 5
    while helper._thread is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert helper._thread is None
    second = Overlapped(threading.get_ident)
    helper.hand(second)
    time.sleep(0.05)
    assert second.result() != threading.get_ident()
