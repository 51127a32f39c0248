"""``make_engine``: a SQLAlchemy engine set up for the audit log.

SQLite (the embedded default, DESIGN.md "Running it"):

* ``journal_mode=WAL``: readers (DPO queries, ``verify``) never block the appender, and
  the appender never blocks them.
* ``synchronous=FULL`` by default: in WAL mode NORMAL skips the fsync at commit, so a
  power cut can lose the last committed appends, whose answers have already left.
  That breaks invariant 4 ("audit before answer") and LDV's "MUST acknowledge every
  write". FULL costs one fsync per append; see bench/results/audit.json.
* ``wal_autocheckpoint=10000`` pages (40 MB at 4 KB a page) instead of SQLite's
  1,000: the log checkpoints on a thread of its own (``audit.wal``), outside the
  commit an answer waits for; SQLite's own checkpoint stays as a backstop. In
  fills to 300,000 entries the commit stage took 0.67-0.69 CPU-seconds that way,
  against 1.07 (README, audit log benchmark).
* ``busy_timeout``: an appender waits this long for another process's write lock, then
  the append fails (503) rather than hanging the request.
* BEGIN is emitted by SQLAlchemy, not by the sqlite3 module, whose legacy mode (Python
  < 3.16) runs SELECTs outside any transaction. ``verify`` needs its reads in one
  snapshot (SQLAlchemy docs, "Transactions with SQLite and the sqlite3 driver").

PostgreSQL: ``pool_pre_ping``, so a worker's first append after a database restart
does not fail on a dead pooled connection.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

from audit.errors import AuditError

Synchronous = Literal["FULL", "NORMAL"]
WAL_BACKSTOP_PAGES = 10_000


def make_engine(
    url: str | URL,
    *,
    busy_timeout_ms: int = 5000,
    synchronous: Synchronous = "FULL",
    **engine_options: Any,
) -> Engine:
    url = make_url(url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **engine_options)
    if url.database in (None, "", ":memory:") or url.query.get("mode") == "memory":
        # Each pooled connection would get its own private database.
        raise AuditError("the audit log needs a file-backed SQLite database")
    if synchronous not in ("FULL", "NORMAL") or busy_timeout_ms < 0:
        raise AuditError("synchronous must be FULL or NORMAL, busy_timeout_ms >= 0")
    engine = create_engine(url, **engine_options)
    event.listen(engine, "connect", _sqlite_setup(busy_timeout_ms, synchronous))
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_setup(busy_timeout_ms: int, synchronous: Synchronous) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN, see module docstring
        cursor = dbapi_connection.cursor()
        # busy_timeout first: switching to WAL needs a lock another process may hold.
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA synchronous = {synchronous}")
        cursor.execute(f"PRAGMA wal_autocheckpoint = {WAL_BACKSTOP_PAGES}")
        cursor.close()

    return on_connect


def _sqlite_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")
