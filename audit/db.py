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

PostgreSQL: a pooled connection the server has closed (a restart, a terminated
backend) is replaced when it is checked out, so a worker's first append or proof
after a database restart does not fail on it. The check is local (``_drop_if_closed``:
has the server said anything on an idle connection?) rather than ``pool_pre_ping``'s
round trip: that ping was one of a proof's two round trips to the server, and on
this 2-core machine each costs a wake-up of the server process and of this one
(README, audit log benchmark). A server that vanishes without closing its sockets
(a cut network) is found by the first statement instead, which fails the request:
fail closed, as with a ping that times out.
"""

from __future__ import annotations

import select
from typing import Any, Literal

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError

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
        engine = create_engine(url, **engine_options)
        event.listen(engine, "checkout", _drop_if_closed)
        return engine
    if url.database in (None, "", ":memory:") or url.query.get("mode") == "memory":
        # Each pooled connection would get its own private database.
        raise AuditError("the audit log needs a file-backed SQLite database")
    if synchronous not in ("FULL", "NORMAL") or busy_timeout_ms < 0:
        raise AuditError("synchronous must be FULL or NORMAL, busy_timeout_ms >= 0")
    engine = create_engine(url, **engine_options)
    event.listen(engine, "connect", _sqlite_setup(busy_timeout_ms, synchronous))
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _drop_if_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection the server has closed; the pool then opens a new
    one."""
    if server_hung_up(dbapi_connection):
        raise DisconnectionError("the server closed the connection")


def server_hung_up(dbapi_connection: Any) -> bool:
    """Whether an idle PostgreSQL connection is closed or has heard from the server.
    An idle connection has nothing to read until it sends a query: anything
    readable is the server's goodbye (a FATAL message, the end of the stream) or a
    message this log never asks for, and either way a fresh connection is safer.
    One ``poll`` with no timeout, no round trip."""
    if getattr(dbapi_connection, "closed", False) or getattr(
            dbapi_connection, "broken", False):
        return True
    poller = select.poll()
    poller.register(dbapi_connection.fileno(),
                    select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


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
