"""A bulk load decides on the registry's state of each holder (sequence number,
withdrawn grants, grants an ended employment hid) as single ingest does: with the
holder's row locked from its first read to its commit. So a change to a holder
that commits while a batch is between reading that state and writing on it waits
for the batch, then finds and treats what the batch stored (PostgreSQL; on SQLite
a load holds the write lock from its first statement).

Each test ends the employment, or withdraws the grant, from a second connection
exactly there: after the batch read the state and before it writes."""

from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import text

import registry.bulk_state
from tests.factories import NOW, UTRECHT, disclosure_rows, signed_grant, withdrawal
from tests.registry.test_ended_employment import NEAR, ZEIST, _again, _employed
from tests.registry.test_suspension import KEY, PURPOSES, _seen

pytestmark = [pytest.mark.postgres,
              pytest.mark.parametrize("database_url", ["postgres"], indirect=True)]


GRANT = signed_grant(KEY, ["skills", "level"], purposes=PURPOSES, to=NEAR)


def _load_while(system, monkeypatch, change) -> list:
    """Publish GRANT (sequence 1), bulk-load it again (sequence 2) and run
    ``change`` in a thread once the batch has read the registry's state (its
    last read: the grants an ended employment hid), until it returns or waits
    for the batch's transaction; then let the batch write. Returns what
    ``change`` returned or raised, in a list."""
    read = registry.bulk_state.ended_grants
    outcome: list = []

    def change_in_between(conn, *args):
        found = read(conn, *args)
        loader = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        thread = threading.Thread(target=_run, args=(change, outcome))
        thread.start()
        _wait_until(lambda: not thread.is_alive() or _blocked_by(system, loader))
        changes.append(thread)
        return found

    changes: list[threading.Thread] = []
    monkeypatch.setattr(registry.bulk_state, "ended_grants", change_in_between)
    system.registry.receive_disclosure(_again(GRANT, 1), NOW)
    result = system.registry.bulk.disclosures([json.dumps(_again(GRANT, 2))], NOW)
    for thread in changes:
        thread.join(60)
    assert result.refused == [] and len(changes) == 1
    return outcome


def test_an_employment_ended_during_a_bulk_load_hides_what_it_stored(
        system, monkeypatch):
    reference = _employed(system)

    outcome = _load_while(system, monkeypatch, lambda: system.registry.employment.end(
        UTRECHT, reference, NOW))

    assert outcome == [None]
    assert [_seen(system, org, {})["fields"] for org in (UTRECHT, ZEIST)] == [
        False, False]


def test_a_grant_withdrawn_during_a_bulk_load_leaves_nothing_stored(
        system, monkeypatch):
    outcome = _load_while(system, monkeypatch, lambda: (
        system.registry.receive_withdrawal(withdrawal(KEY, GRANT, 3), NOW)))

    assert outcome == [GRANT.id]
    assert disclosure_rows(system.registry.engine) == []
    assert system.registry.ingest.last_sequence(KEY.did) == 3


def _run(change, outcome: list) -> None:
    try:
        outcome.append(change())
    except Exception as exc:  # noqa: BLE001 - reported to the test's thread
        outcome.append(exc)


def _blocked_by(system, pid: int) -> bool:
    """Whether some session waits for a lock that session ``pid`` holds."""
    with system.registry.engine.connect() as conn:
        return conn.execute(text(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity "
            "WHERE :pid = ANY(pg_blocking_pids(pid)))"), {"pid": pid}).scalar()


def _wait_until(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the change neither ended nor waited"
        time.sleep(0.01)
