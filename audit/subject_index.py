"""``SubjectIndexer``: writes the entries into ``<prefix>_subjects`` (by data
subject and time) and ``<prefix>_entry_keys`` (their organisation, time, trace
and parent span), and the access records into ``<prefix>_access_keys`` (their trace,
span, actor and time, ``audit.tables``) behind the log, in batches, on a
thread of its own.

The subject is the one column of an entry that lands anywhere in its index: a
page of ten candidates put ten B-tree pages into the commit its answer waits for
(invariant 4), half of what the commit wrote. Written here instead, a batch
holds the entries of many requests, a subject that comes back (the same
candidates for the same assignment) shares its page, and no answer waits for
it. The same holds for the entries' organisation, time and trace: indexes of
the entries put some seven more pages into that commit, one of them at a
random place (the trace), and indexes of the access records (by trace and
span, by actor) two and a half. Nothing is lost meanwhile: the records are in
the log, and a query by any of these searches the records after the mark in
the log itself (``audit.queries``), so it finds every record whether indexed
or not.

Each batch is one transaction that moves the mark (``upto``: every record before
it is in the three tables) over the records it copies, all of them committed
(below the head's size as this transaction sees it). It locks the mark row
first, so indexers of several processes take turns and never copy a record
twice. A
batch is kept short (``BATCH`` leaves): it holds the write lock, and appends
wait for it. The thread starts once the log has grown ``lag_leaves``
past the mark it last saw (``nudge``), so a batch holds that many leaves and
the tail a query searches stays about that long; it runs at most every
``interval_s`` and stops when appends stop. ``catch_up`` does the same on the
caller's thread (tests, a process that appends without the thread).

On SQLite the thread writes each batch on the connection appends write on,
between two group commits (``on_writer``, ``MerkleLog._on_writer``): appends
queue in the process while it runs instead of sleeping in SQLite's busy
handler, and neither the batches nor the appends find their page cache
dropped by the other's writes. On PostgreSQL it writes on a pooled
connection of its own; the row lock of the mark is all the batches share
with the appends there. ``catch_up`` on SQLite, like another process's
append, is a second writer: a transaction of another connection to the same
file that read before it wrote may find its snapshot stale and get
SQLITE_BUSY at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, text

from audit.tables import AuditTables

logger = logging.getLogger(__name__)

BATCH = 2000  # leaves per transaction (the entries among them are copied)


def catch_up(engine: Engine, tables: AuditTables) -> tuple[int, int]:
    """Copy the entries after the mark into the table, ``BATCH`` leaves at a
    time, up to the head; returns how many leaves the mark moved over, and the
    mark."""
    moved = 0
    while True:
        with engine.begin() as conn:
            done, upto = index_batch(conn, tables, BATCH)
        if not done:
            return moved, upto
        moved += done


def index_batch(conn: Connection, tables: AuditTables, step: int
                ) -> tuple[int, int]:
    """One batch inside the caller's transaction: the entries from the mark up to
    ``step`` leaf indices further (at most to the head); returns how far the mark
    moved, and where it is now."""
    def run(sql: str, params: dict[str, int]) -> Any:
        result = conn.execute(text(sql), params)
        return result.scalar() if result.returns_rows else None

    return _batch(run, tables, step)


def index_batch_raw(raw: Any, tables: AuditTables, step: int) -> tuple[int, int]:
    """``index_batch`` through the driver's own cursor on its connection ``raw``
    (SQLite's sqlite3 module, which takes the same ``:name`` parameters), in the
    transaction open on it: the appending connection's (``MerkleLog``)."""
    cursor = raw.cursor()

    def run(sql: str, params: dict[str, int]) -> Any:
        row = cursor.execute(sql, params).fetchone()
        return row[0] if row is not None else None

    try:
        return _batch(run, tables, step)
    finally:
        cursor.close()


def _batch(run: Callable[[str, dict[str, int]], Any], tables: AuditTables,
           step: int) -> tuple[int, int]:
    mark, head = tables.subjects_mark.name, tables.head.name
    # Writing the mark row first takes its lock (PostgreSQL's row lock, SQLite's
    # write lock): a second indexer waits here and then starts where this ends.
    upto = run(f"UPDATE {mark} SET upto = upto WHERE id = 1 RETURNING upto", {})
    if upto is None:
        return 0, 0  # no mark row: the tables are not created yet
    size = run(f"SELECT size FROM {head}", {}) or 0
    end = min(size, upto + step)
    if end <= upto:
        return 0, upto
    span = {"upto": upto, "end": end}
    run(f"INSERT INTO {tables.subjects.name} (subject, started_at_ms, idx) "
        f"SELECT subject, started_at_ms, idx FROM {tables.entries.name} "
        "WHERE idx >= :upto AND idx < :end", span)
    run(f"INSERT INTO {tables.keys.name} "
        "(idx, organisation, started_at_ms, trace_id, parent_span_id) "
        "SELECT idx, organisation, started_at_ms, trace_id, parent_span_id FROM "
        f"{tables.entries.name} WHERE idx >= :upto AND idx < :end", span)
    run(f"INSERT INTO {tables.access_keys.name} "
        "(idx, trace_id, span_id, actor, occurred_at_ms) "
        "SELECT idx, trace_id, span_id, actor, occurred_at_ms FROM "
        f"{tables.access.name} WHERE idx >= :upto AND idx < :end", span)
    run(f"UPDATE {mark} SET upto = :end WHERE id = 1", {"end": end})
    return end - upto, end


# Runs a batch, given the driver's connection, in a transaction of its own on
# the connection appends write on, and returns the batch's result (``MerkleLog``).
OnWriter = Callable[[Callable[[Any], tuple[int, int]]], tuple[int, int]]


class SubjectIndexer:
    def __init__(self, engine: Engine, tables: AuditTables, lag_leaves: int = 1024,
                 interval_s: float = 0.2, idle_s: float = 1.0,
                 on_writer: OnWriter | None = None) -> None:
        self._engine = engine
        self._tables = tables
        self._on_writer = on_writer
        self._lag = lag_leaves
        self._seen = 0  # the mark as this process last moved or read it
        self._stopped = False
        self._interval = interval_s
        self._idle = idle_s
        self._nudged = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def nudge(self, size: int) -> None:
        """The log has ``size`` leaves committed: if that is ``lag_leaves`` past
        the mark, index them soon (starting the thread if needed)."""
        if size - self._seen < self._lag:
            return
        self._nudged.set()
        with self._lock:
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="audit-subject-index")
                self._thread.start()

    def _run(self) -> None:
        while True:
            if not self._nudged.wait(self._idle):
                with self._lock:
                    if not self._nudged.is_set():  # idle: end; a nudge restarts
                        self._thread = None
                        return
            # Let appends gather first: one batch then holds many requests.
            time.sleep(self._interval)
            self._nudged.clear()
            if self._stopped:
                return
            self._catch_up()

    def stop(self) -> None:
        """End the thread (after the batch it is writing, if any); no nudge
        starts it again."""
        with self._lock:
            self._stopped = True
            thread = self._thread
        self._nudged.set()
        if thread is not None:
            thread.join()

    def _catch_up(self) -> None:
        try:
            if self._on_writer is None:
                self._seen = catch_up(self._engine, self._tables)[1]
                return
            done = 1
            while done and not self._stopped:  # appends go in between
                done, self._seen = self._on_writer(
                    lambda raw: index_batch_raw(raw, self._tables, BATCH))
        except Exception:  # the next nudge tries again; queries search the tail
            logger.warning("audit subject index could not catch up", exc_info=True)
