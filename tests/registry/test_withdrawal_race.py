"""A withdrawal that arrives while a query runs: the query either shows the data
and logs it (it read before the withdrawal) or does not show it; every query that
starts after the withdrawal returned shows nothing, and nothing is left behind."""

from __future__ import annotations

import threading
import time

from registry import pseudonym_for
from tests.factories import (
    NOW,
    assignment,
    disclosure,
    disclosure_rows,
    holder_key,
    signed_grant,
    staff_requester,
    trace_id,
    withdrawal,
)


def _published(system):
    key = holder_key(11)
    grant = signed_grant(key, ["skills", "level"])
    system.registry.receive_disclosure(disclosure(key, grant, 1), NOW)
    requester = staff_requester(system)
    return key, grant, requester, assignment(system, requester)


def test_a_withdrawal_between_reading_and_answering_is_logged_then_final(
        system, monkeypatch):
    key, grant, requester, job = _published(system)
    gate = system.registry.gate
    confirm = gate._confirm
    arrived = []

    def withdraw_during_query(row, org):
        if not arrived:  # the withdrawal arrives after the rows were read
            arrived.append(system.registry.receive_withdrawal(
                withdrawal(key, grant, 2), NOW))
        return confirm(row, org)

    monkeypatch.setattr(gate, "_confirm", withdraw_during_query)
    racing = system.registry.candidates(requester, job.id, NOW, trace_id(1))
    after = system.registry.candidates(requester, job.id, NOW, trace_id(2))

    pseudonym = pseudonym_for(system.pseudonym_secret, key.did)
    shown = [r.profile.pseudonym for r in racing.candidates]
    logged = [e.entry.subject for e in system.audit.entries(trace_id=trace_id(1))]
    assert arrived and shown == logged  # whatever was shown was logged first
    assert after.candidates == [] and disclosure_rows(system.registry.engine) == []
    assert system.audit.entries(trace_id=trace_id(2)) == []
    assert pseudonym not in [r.profile.pseudonym for r in after.candidates]


def test_no_query_that_starts_after_a_concurrent_withdrawal_sees_the_data(system):
    key, grant, requester, job = _published(system)
    results: list[tuple[float, bool]] = []
    stop = threading.Event()

    def query_until_stopped() -> None:
        n = 100
        while not stop.is_set():
            started = time.monotonic()
            page = system.registry.candidates(requester, job.id, NOW, trace_id(n))
            results.append((started, bool(page.candidates)))
            n += 1

    worker = threading.Thread(target=query_until_stopped)
    worker.start()
    _wait_for(lambda: results)  # at least one query answered before
    system.registry.receive_withdrawal(withdrawal(key, grant, 2), NOW)
    withdrawn_at = time.monotonic()
    _wait_for(lambda: any(started > withdrawn_at for started, _ in results))
    stop.set()
    worker.join()

    assert any(seen for started, seen in results if started < withdrawn_at)
    later = [seen for started, seen in results if started > withdrawn_at]
    assert later and not any(later)


def _wait_for(condition, seconds: float = 30.0) -> None:
    """Until ``condition()`` holds: on a busy machine one query can take longer
    than any fixed pause, and a pause that no query fits in proves nothing."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
