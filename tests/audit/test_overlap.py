"""A request's answer is made while the records before its own are committed,
or after its own are, and handed back only once they are durable (invariant
4); a failed append drops it."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from audit import AuditAppendFailed, AuditLog
from audit.overlap import Overlapped
from tests.audit.records import request


def test_a_leading_caller_makes_its_answer_once_its_records_are_durable(
        log, engine, prefix):
    reader = AuditLog(engine, prefix=prefix)
    seen = {}

    def answer() -> int:
        seen["thread"] = threading.get_ident()
        return reader.head().size

    assert log.append_while(request(1, 3), answer) == 4  # made after the commit
    assert seen["thread"] == threading.get_ident()  # on the request's own thread
    assert log.verify().ok


def test_a_waiting_callers_answer_is_made_meanwhile_and_handed_back_once_durable(
        log, engine, prefix, monkeypatch):
    real = log._commit
    reader = AuditLog(engine, prefix=prefix)
    committing = threading.Event()

    def slow_commit(raw):
        committing.set()
        time.sleep(0.2)
        real(raw)

    monkeypatch.setattr(log, "_commit", slow_commit)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(log.append, request(1, 2))
        assert committing.wait(5)
        answer = log.append_while(request(2, 2), lambda: reader.head().size)
        assert first.result() == [0, 1, 2]
    assert answer == 0  # made while the group before it committed ...
    assert reader.head().size == 6  # ... handed back after its own commit
    assert log.verify().ok


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
    other = threading.Thread(target=overlapped.run)
    other.start()
    time.sleep(0.05)
    gate.set()
    assert overlapped.result() == "done"
    other.join()
    overlapped.run()
    assert runs == [1]
