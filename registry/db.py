"""Engines for the registry: SQLite by default, PostgreSQL when a URL says so."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Engine,
    String,
    any_,
    bindparam,
    create_engine,
    event,
    false,
    func,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import SQLModel

from . import (
    match_changes,  # noqa: F401  (creates its triggers with the tables)
    tables,  # registers the tables on SQLModel.metadata
)
from .errors import StorageFailed
from .tables_work import WORK_TABLE_NAMES


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


# The page size of a new SQLite registry. A disclosure row (the signed document
# and its projection, some 3 KB) took a 4 KiB page of its own, a quarter of it
# unused; 16 KiB pages hold five. A bulk load of 130,121 disclosures (100,000
# holders) wrote a 884 MB file instead of 970 MB, with a fourth as many pages
# to spill to the WAL and checkpoint back, two system calls each: the loading
# process's system time per disclosure fell from about 40 to 20 us, its main
# thread's CPU time from about 140 to 115 us (32 KiB gained nothing more). A file
# made before keeps its 4 KiB pages: SQLite changes the size only with a VACUUM
# outside WAL mode.
PAGE_SIZE = 16384


def _sqlite_pragmas(connection, _record) -> None:
    # WAL lets readers proceed during a write; NORMAL is durable across application
    # crashes in WAL mode (only an OS crash can lose the last commits).
    cursor = connection.cursor()
    # Before WAL mode, which writes a new file's first page: the size of its pages,
    # for a new file only (SQLite ignores it for one that has pages).
    cursor.execute(f"PRAGMA page_size={PAGE_SIZE}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Ranking probes disclosures scattered through a table of signed documents:
    # reading them through a memory map and a 64 MiB page cache instead of a read
    # call per page halved the gate's share of a query at 100,000 holders.
    cursor.execute("PRAGMA mmap_size=1073741824")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def create_tables(engine: Engine) -> None:
    """Create or upgrade the schema (``registry.migrate``), keeping all data."""
    from .migrate import upgrade

    upgrade(engine)


def drop_tables(engine: Engine) -> None:
    from .migrate import VERSION_TABLE

    SQLModel.metadata.drop_all(engine, tables=registry_tables())
    with transaction(engine) as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))


def registry_tables() -> list:
    names = {t.name for t in tables.REGISTRY_TABLES} | WORK_TABLE_NAMES
    return [t for t in SQLModel.metadata.sorted_tables if t.name in names]


def among(conn: Connection, column, values: list[str]) -> ColumnElement[bool]:
    """``column IN values`` with the values as one parameter (an array on
    PostgreSQL, a JSON array on SQLite): an IN list of a batch's thousands of
    parameters took longer to render and parse than the query took to run."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(String)))
    return column.in_(select(literal_column("value")).select_from(
        func.json_each(bindparam(None, json.dumps(list(values))))))


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction; storage failures become StorageFailed at this one boundary,
    domain errors raised inside roll it back and pass through unchanged."""
    try:
        with engine.begin() as conn:
            yield conn
    except SQLAlchemyError as exc:
        raise StorageFailed() from exc


@contextmanager
def within(engine: Engine, conn: Connection | None) -> Iterator[Connection]:
    """The caller's transaction ``conn`` when it has one, else a transaction of
    its own (``transaction``): a page's reads share one connection, so that
    PostgreSQL serves them with one check-out and one commit."""
    if conn is not None:
        yield conn
        return
    with transaction(engine) as own:
        yield own


def take_turn(conn: Connection, table, name: str) -> None:
    """Wait, until this transaction ends, for every other transaction that took
    the turn ``name``: the first step of a transaction that checks that a row is
    absent (or counts rows) and then writes one, so that of two racing requests
    the second sees the first one's row (a 409) instead of failing to write.

    PostgreSQL: a transaction-scoped advisory lock on ``name`` (read committed
    reads again after the wait, so the check sees the row of the one before).
    SQLite admits one writer at a time: a write that changes nothing (to
    ``table``) makes this transaction that writer before it reads, and its reads
    then see every committed row. Read first, a deferred transaction could not
    become the writer once another had committed (SQLITE_BUSY_SNAPSHOT, which no
    busy timeout waits out): the request failed as if storage were down."""
    if conn.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big",
                             signed=True)
        conn.execute(select(func.pg_advisory_xact_lock(key)))
        return
    column = next(iter(table.primary_key.columns))
    conn.execute(update(table).where(false()).values({column.name: column}))
