"""``Overlapped`` and ``Helper``: the rest of a request, run while its records are
being committed (``MerkleLog.append_while``).

A request that shows personal data waits for its audit records to be durable
before its answer leaves (DESIGN.md invariant 4); it need not wait to *make* the
answer. The commit spends most of its time in the database driver without the
GIL (SQLite writing the WAL and its fsync, or PostgreSQL's round trip), so the
thread that commits hands the request's remaining work (building the response)
to a helper thread just before it commits, and that work runs on the other core
meanwhile. The answer is handed back only once the commit is done.

Whoever gets to the work first runs it, once: the helper, the requesting thread
while another thread commits its group (group commit), or the requesting thread
after its commit if the helper has not started yet (a busy machine): no request
ever waits for the helper to be scheduled.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Overlapped(Generic[T]):
    """One request's remaining work, run at most once, by whoever claims it."""

    def __init__(self, work: Callable[[], T]) -> None:
        self._work = work
        self._lock = threading.Lock()
        self._claimed = False
        self._done = threading.Event()
        self._result: T | None = None
        self._error: BaseException | None = None

    @property
    def claimed(self) -> bool:
        return self._claimed

    def run(self) -> None:
        """Run the work here, unless it runs or ran elsewhere."""
        with self._lock:
            if self._claimed:
                return
            self._claimed = True
        try:
            self._result = self._work()
        except BaseException as exc:  # handed to the requesting thread (result)
            self._error = exc
        finally:
            self._done.set()

    def result(self) -> T:
        """The work's result (run here if no one has started it), or its error."""
        self.run()
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]


class Helper:
    """One thread that runs handed work; started on first use, it ends after
    ``idle_s`` without work (a later hand starts it again)."""

    def __init__(self, idle_s: float = 1.0) -> None:
        self._idle = idle_s
        self._queue: queue.SimpleQueue[Overlapped] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def hand(self, work: Overlapped) -> None:
        """Run ``work`` on the helper thread; once stopped, leave it to the
        requesting thread (``Overlapped.result`` runs what nobody claimed)."""
        with self._lock:
            if self._stopped:
                return
        self._queue.put(work)
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="audit-overlap")
                self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                work = self._queue.get(timeout=self._idle)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():  # idle: end; a hand restarts
                        self._thread = None
                        return
                continue
            if work is None:  # stop
                return
            work.run()

    def stop(self) -> None:
        """End the thread after the work it runs; work handed later runs on the
        requesting thread."""
        with self._lock:
            self._stopped = True
            thread = self._thread
        self._queue.put(None)  # type: ignore[arg-type]
        if thread is not None:
            thread.join()
