"""``WalCheckpointer``: copies SQLite's write-ahead log back into the database file
on a thread of its own, so that an append's commit waits for its own WAL fsync only.

SQLite checkpoints automatically (``wal_autocheckpoint``) inside the COMMIT that
takes the WAL past the limit: that append and every request in its group wait for
the copy and a second fsync, of the database file, before their answers leave.
Here the committing thread only nudges; this thread runs a PASSIVE checkpoint (it
never blocks a writer or a reader) once commits have brought ``records`` records
(but not within ``spacing_s`` of the last one) or have come in for ``interval_s``,
and stops when they stop. Durability is unchanged: a commit is durable once its
WAL frames are fsynced (``synchronous=FULL``), checkpointed or not.
``make_engine`` keeps SQLite's own checkpoint as a backstop at a larger WAL, for
a process that appends without this thread.

Why not sooner: each checkpoint costs appends fsyncs they would not otherwise
wait for. It fsyncs the WAL and the database file on the device a commit's
fsync queues behind, and once it has copied every frame, the next append
restarts the WAL from its start and fsyncs the new WAL header before its
frames, a second fsync in that commit (SQLite, ``sqlite3WalFrames``). In the
match benchmark (300 holders, 200 queries, load 6.6-10.7, the WAL header's salt
read after each commit) a checkpoint every 0.1 s had 64-104 of 400 appends
restart the WAL, and those commits took about twice as long at the median as
the others; a checkpoint every 1,000 records (some 90 pages of candidates) or
second left 7 of 400, and 19 of 1,200 in 600 queries.

Why by records: a WAL is overwritten from its start after a restart, and a
commit that writes past its end makes the file longer, and fdatasync(2) then
makes the new size durable too (0.4-0.8 ms more a commit in one run of that
benchmark). Checkpoints by time alone let the WAL grow whenever a second held
more commits than any before (77 of the last 400 appends of 600 queries grew
it); checkpoints every ``records`` keep its size, so only the first few
checkpoints' appends grow it (none of those 400). ``spacing_s`` keeps a fill
(tens of thousands of records a second) at ten checkpoints a second at most, as
before, its WAL well below the backstop.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import Engine

logger = logging.getLogger(__name__)


class WalCheckpointer:
    def __init__(self, engine: Engine, interval_s: float = 1.0,
                 records: int = 1_000, spacing_s: float = 0.1,
                 idle_s: float = 1.0) -> None:
        self._engine = engine
        self._interval = interval_s
        self._records = records
        self._spacing = spacing_s
        self._idle = idle_s
        self._nudged = threading.Event()
        self._full = threading.Event()  # ``records`` committed since the last one
        self._pending = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def nudge(self, records: int = 1) -> None:
        """A commit of ``records`` happened: checkpoint soon (starting the thread
        if needed)."""
        self._nudged.set()
        with self._lock:
            self._pending += records
            if self._pending >= self._records:
                self._full.set()
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
            with self._lock:
                self._pending = 0
                self._full.clear()
            started = time.monotonic()
            self._checkpoint()
            self._full.wait(max(0.0, self._interval - (time.monotonic() - started)))
            time.sleep(max(0.0, self._spacing - (time.monotonic() - started)))

    def stop(self) -> None:
        """End the thread (after the checkpoint it is running, if any); no nudge
        starts it again, so SQLite's own checkpoint is the one left."""
        with self._lock:
            self._stopped = True
            thread = self._thread
        self._nudged.set()
        self._full.set()
        if thread is not None:
            thread.join()

    def _checkpoint(self) -> None:
        try:
            with self._engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception:  # the next nudge tries again; the backstop still holds
            logger.warning("audit WAL checkpoint failed", exc_info=True)
