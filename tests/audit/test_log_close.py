"""Closing a log stops and joins every thread behind it; appends still work."""

from __future__ import annotations

import threading

from tests.audit.records import request


def _threads_of(log) -> list[threading.Thread]:
    parts = (log._wal, log._subjects)
    return [part._thread for part in parts
            if part is not None and part._thread is not None]


def test_a_closed_log_has_no_thread_running_and_starts_none_on_append(log):
    # Enough leaves that the subjects thread starts (``lag_leaves``).
    log.append_while(request(1, 1100), lambda: "answer")
    started = _threads_of(log)

    log.close()

    assert started and not any(thread.is_alive() for thread in started)
    assert log.append_while(request(2, 2), lambda: "answer") == "answer"
    assert not any(thread.is_alive() for thread in _threads_of(log))
    assert log.count() == 1102 and log.verify().ok
