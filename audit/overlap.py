"""``Overlapped``: the rest of a request, run while its records are being
committed by another thread (``MerkleLog.append_while``).

A request that shows personal data waits for its audit records to be durable
before its answer leaves (DESIGN.md invariant 4); it need not wait to *make* the
answer. A request whose records wait in the queue while a leading thread commits
the group before them makes its answer meanwhile, and it is handed back only
once the commit that holds its records is done. The leading thread makes its
own answer after its commit: handing it to a helper thread cost each request
more CPU (thread wake-ups, GIL hand-overs) than it hid (``audit.log``).

The requesting thread runs the work, once: while another thread commits its
group, or else once its records are committed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Overlapped(Generic[T]):
    """One request's remaining work, run at most once."""

    def __init__(self, work: Callable[[], T]) -> None:
        self._work = work
        self._lock = threading.Lock()
        self._claimed = False
        self._done = threading.Event()
        self._result: T | None = None
        self._error: BaseException | None = None

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
