"""``WalCheckpointer``: copies SQLite's write-ahead log back into the database file
on a thread of its own, so that an append's commit waits for its own WAL fsync only.

SQLite checkpoints automatically (``wal_autocheckpoint``) inside the COMMIT that
takes the WAL past the limit: that append and every request in its group wait for
the copy and a second fsync, of the database file, before their answers leave.
Here the committing thread only nudges; this thread runs a PASSIVE checkpoint (it
never blocks a writer or a reader) at most every ``interval_s`` while commits
come in, and stops when they stop. Durability is unchanged: a commit is durable
once its WAL frames are fsynced (``synchronous=FULL``), checkpointed or not.
``make_engine`` keeps SQLite's own checkpoint as a backstop at a larger WAL, for
a process that appends without this thread.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import Engine

logger = logging.getLogger(__name__)


class WalCheckpointer:
    def __init__(self, engine: Engine, interval_s: float = 0.1,
                 idle_s: float = 1.0) -> None:
        self._engine = engine
        self._interval = interval_s
        self._idle = idle_s
        self._nudged = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def nudge(self) -> None:
        """A commit happened: checkpoint soon (starting the thread if needed)."""
        self._nudged.set()
        with self._lock:
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="audit-wal-checkpoint")
                self._thread.start()

    def _run(self) -> None:
        while True:
            if not self._nudged.wait(self._idle):
                with self._lock:
                    if not self._nudged.is_set():  # idle: end; a nudge restarts
                        self._thread = None
                        return
            self._nudged.clear()
            if self._stopped:
                return
            started = time.monotonic()
            self._checkpoint()
            time.sleep(max(0.0, self._interval - (time.monotonic() - started)))

    def stop(self) -> None:
        """End the thread (after the checkpoint it is running, if any); no nudge
        starts it again, so SQLite's own checkpoint is the one left."""
        with self._lock:
            self._stopped = True
            thread = self._thread
        self._nudged.set()
        if thread is not None:
            thread.join()

    def _checkpoint(self) -> None:
        try:
            with self._engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception:  # the next nudge tries again; the backstop still holds
            logger.warning("audit WAL checkpoint failed", exc_info=True)
