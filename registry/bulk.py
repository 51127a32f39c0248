"""Bulk ingest of disclosures: the same checks as ``Ingest.disclosure``, batched.

Loading a whole sector (hundreds of thousands of holders moving to a new registry,
or a restore) one document per transaction costs about a millisecond each on
PostgreSQL. Here every check that needs no registry state runs in a pool of worker
processes (``registry.bulk_checks``), which send back the rows' values ready for
the database. The registry-state checks (replayed sequence, also against an
erasure, withdrawn or foreign grant id, the employer's policy on audiences, with
the retraction a refused newer document makes) run in this process per batch
with a few set queries, in the order the documents were given
(``registry.bulk_state``), and the rows go in with the
driver's executemany (SQLite) or COPY (PostgreSQL) (``registry.bulk_rows``), never
one ORM object or one statement per row. A batch is one transaction: a refused
document is reported by its position and changes nothing (but what a retraction
ends, and a newer projection under a grant that stays suspended, as one by one),
the accepted ones of its batch are stored together.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import SQLAlchemyError

from consent import Audience

from .bulk_checks import Checked, DocumentChecks, check, init_worker
from .bulk_rows import insert
from .bulk_state import StateRules, against_state
from .employment_reach import hide_grants
from .errors import StorageFailed
from .policies import Policies
from .suspension import suspend
from .tables import CHILD_TABLES, Disclosure

D = Disclosure.__table__
BATCH = 5000
CHUNK = 250  # documents per task sent to a worker
AHEAD = 2  # batches handed to the workers before the one being stored
# The first batch's size; each next one is twice as large, up to ``BATCH``. This
# process stores nothing until the workers have checked the first batch: one of
# 5,000 kept it idle for half a second (a fortieth of a load of 130,000
# documents, whose length this process's storing sets), one of 500 for a tenth
# of that, and the larger ones after it are checked while it stores the
# smaller ones.
FIRST = 500


@dataclass
class BulkResult:
    accepted: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)  # (position, code)


class BulkIngest:
    def __init__(self, engine: Engine, geo, tooi_to_code: Mapping[str, str],
                 pseudonym_secret: bytes, workers: int | None = None,
                 policies: Policies | None = None):
        self._engine = engine
        self._policies = policies or Policies(engine, geo, tooi_to_code)
        self._geo = geo
        self._tooi = dict(tooi_to_code)
        self._secret = pseudonym_secret
        self._workers = workers or os.cpu_count() or 1

    def disclosures(self, texts: Iterable[str], now: datetime) -> BulkResult:
        """Ingest JSON texts of signed disclosures; returns counts and refusals.

        ``texts`` is read ``AHEAD`` batches ahead of the database: the workers
        check the next batches while this process stores the current one, and no
        more than ``AHEAD + 1`` batches are held in memory, however long the
        input. Into a registry that
        holds no disclosure yet, the whole load is one transaction that builds the
        secondary indexes of the disclosure tables once, at its end (see
        ``_defer_indexes_if_empty``)."""
        result = BulkResult()
        checks = DocumentChecks(self._geo, self._tooi, self._policies, self._secret,
                                now, self._engine.dialect)
        fork = multiprocessing.get_context("fork")
        with _cycle_collection_paused(), ProcessPoolExecutor(
                self._workers, mp_context=fork, initializer=init_worker,
                initargs=(checks,)) as pool:
            batches = _checked_ahead(pool, texts)
            with _load_transaction(self._engine) as conn:
                deferred = _defer_indexes_if_empty(conn)
                if deferred:
                    trigger = _defer_change_trigger(conn)
                    for batch, checked in batches:
                        self._store(conn, batch, checked, now, result,
                                    log_changes=bool(trigger))
                    _rebuild_indexes(conn, deferred + trigger)
            for batch, checked in batches:  # none left after a deferred load
                with _load_transaction(self._engine) as conn:
                    self._store(conn, batch, checked, now, result)
        return result

    def _store(self, conn: Connection, batch: list[tuple[int, str]],
               checked: Iterable, now: datetime, result: BulkResult,
               log_changes: bool = False) -> None:
        good = []
        for position, found in checked:
            if isinstance(found, str):
                result.refused.append((position, found))
            else:
                good.append((position, Checked._make(found)))
        rules = StateRules(self._secret, self._policies, now)
        admitted = against_state(conn, rules, good, result.refused)
        texts = dict(batch)
        insert(conn, [(found, texts[position]) for position, found in admitted.kept],
               now, log_changes, advanced=admitted.advanced)
        self._suspend(conn, admitted.suspended.values())
        if admitted.ended:
            hide_grants(conn, admitted.ended)
        result.accepted += len(admitted.kept) - len(admitted.suspended)

    def _suspend(self, conn: Connection, kept: Iterable[Checked]) -> None:
        """Suspend the disclosures just stored that replaced a suspended one and
        were refused by the same employer's policy (``bulk_state``), one by one
        as ``Ingest.disclosure`` does: a few per load at most. A load that
        deferred the change-log trigger (``_defer_change_trigger``) has none: it
        began in a registry without disclosures, so nothing in it was
        suspended."""
        for found in kept:
            disclosure_id = conn.execute(select(D.c.id).where(
                D.c.grant_id == found.grant_id,
                D.c.holder_did == found.holder)).scalar_one()
            suspend(conn, disclosure_id, found.employer,
                    Audience.from_json(found.audience), self._geo)


@contextmanager
def _cycle_collection_paused() -> Iterator[None]:
    """The cycle collector off while batches are stored: the rows of a batch are
    hundreds of thousands of young tuples, each few hundred of which set off a
    collection that walks every object in the process (reference data included),
    a tenth of this process's time. Reference counting still frees the rows; the
    few cycles made meanwhile are collected when it is back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _checked_ahead(pool: ProcessPoolExecutor, texts: Iterable[str]
                   ) -> Iterator[tuple[list[tuple[int, str]], Iterable]]:
    """Each batch of (position, text) with the workers' results for it; the
    ``AHEAD`` batches after it are handed to the workers before it is yielded to
    be stored. With one batch ahead the workers, done with it before this
    process had stored the current one, sat idle until the store ended: the
    machine's cores were busy only part of the time."""
    pending: deque = deque()
    for batch in _batches(enumerate(texts), FIRST, BATCH):
        pending.append((batch, pool.map(check, batch, chunksize=CHUNK)))
        if len(pending) > AHEAD:
            yield pending.popleft()
    while pending:
        yield pending.popleft()


# The secondary indexes that a first load builds once at its end instead of row by
# row: the ones whose keys arrive in no order over a table of about eight rows per
# disclosure (a batch's rows then land on pages all over the tree). The others are
# kept in step: their keys arrive in order (disclosure ids only grow), or they
# index the disclosure table, whose few wide rows per page make each build's scan
# of it cost more (about a second at 100,000 holders, with this process's
# workers idle) than keeping the index in step while the workers check the next
# batches.
DEFERRED_INDEXES = frozenset({"ix_disclosure_skill_skill_disclosure"})


def _defer_indexes_if_empty(conn: Connection) -> list[str]:
    """In a registry without disclosures: drop the ``DEFERRED_INDEXES`` (and on
    PostgreSQL the disclosure tables' foreign keys, ``_defer_child_keys``) and return
    the statements that build them again.

    Unique indexes stay (they are checks, and the state queries read them). The
    drop, the load and the rebuild are one transaction, so a load that fails or
    is cut off leaves the indexes as they were. Meanwhile the load holds the
    write lock (SQLite) or the disclosure tables (PostgreSQL, where readers wait
    too): a first load into an empty registry has nothing to show meanwhile."""
    tables = [t.__table__.name for t in (Disclosure, *CHILD_TABLES)]
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            f"LOCK TABLE {', '.join(tables)} IN SHARE ROW EXCLUSIVE MODE")
        rows = conn.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = "
            "current_schema() AND tablename = ANY(:tables) AND "
            "position('CREATE UNIQUE' in indexdef) = 0 ORDER BY indexname"),
            {"tables": tables}).all()
    else:
        rows = conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
            "sql IS NOT NULL AND tbl_name IN (SELECT value FROM json_each(:tables)) "
            "AND instr(sql, 'CREATE UNIQUE') = 0 ORDER BY name"),
            {"tables": json.dumps(tables)}).all()
    if conn.execute(select(D.c.id).limit(1)).first() is not None:
        return []
    rows = [(name, definition) for name, definition in rows
            if name in DEFERRED_INDEXES]
    for name, _ in rows:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    return ([definition for _, definition in rows] + _defer_child_keys(conn, tables)
            + _defer_match_keys(conn))


def _defer_child_keys(conn: Connection, tables: list[str]) -> list[str]:
    """PostgreSQL: drop the foreign keys of the disclosure tables (the child
    tables' to ``disclosure``, the disclosure's to ``holder``) and return the
    statements that add them again (SQLite's are off during a load, see
    ``_SQLITE_LOAD``).

    Each row written would otherwise be checked on its own, by a query that
    also locks the row it refers to: about twenty per disclosure, two fifths of
    the server's time in a load (measured: 205 to 116 us per disclosure for the
    child tables' keys). Every child row of a load refers to a disclosure id
    reserved in the same transaction, on tables it holds locked; every
    disclosure to a holder upserted earlier in it, which only an erasure
    removes, and an erasure deletes from the locked disclosure tables first,
    so it waits for the load. Adding the keys back checks every row again, in
    one join per key, so a load that broke one fails as a whole and changes
    nothing. The keys come back under their names and definitions."""
    if conn.dialect.name != "postgresql":
        return []
    return _drop_constraints(
        conn, "c.contype = 'f' AND t.relname = ANY(:tables) AND c.confrelid IN "
        "('disclosure'::regclass, 'holder'::regclass)", tables)


def _drop_constraints(conn: Connection, where: str, tables: list[str]) -> list[str]:
    """PostgreSQL: drop the constraints ``where`` selects (``c``: the constraint,
    ``t``: its table) and return the statements that add them again."""
    keys = conn.execute(text(
        "SELECT c.conrelid::regclass::text, quote_ident(c.conname), "
        "pg_get_constraintdef(c.oid) FROM pg_constraint AS c JOIN pg_class AS t "
        f"ON t.oid = c.conrelid WHERE {where} ORDER BY 1, 2"),
        {"tables": tables}).all()
    for table, name, _ in keys:
        conn.exec_driver_sql(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    return [f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"
            for table, name, definition in keys]


# PostgreSQL: the match index tables whose primary keys a first load builds at its
# end. Their keys begin with a pseudonym or a skill, so a batch's rows land all
# over trees that outgrow the server's buffers at a few hundred thousand holders:
# each row then costs a page read and, after a checkpoint, a full page written to
# the WAL.
DEFERRED_KEYS = ("match_disclosure", "match_skill")


def _defer_match_keys(conn: Connection) -> list[str]:
    """PostgreSQL: drop the primary keys of the ``DEFERRED_KEYS`` tables and return
    the statements that add them again (on SQLite the key is the table itself).

    Nothing in a load reads these tables by their keys: a replaced or retracted
    disclosure's rows are deleted by disclosure id, through the index on it,
    which stays. Every row of a load carries a disclosure id reserved in it, so
    no two rows of the load can share a key; adding the key back checks that
    anyway, so a load that broke it fails as a whole and changes nothing."""
    if conn.dialect.name != "postgresql":
        return []
    return _drop_constraints(conn, "c.contype = 'p' AND t.relname = ANY(:tables)",
                             list(DEFERRED_KEYS))


def _defer_change_trigger(conn: Connection) -> list[str]:
    """SQLite, in a load that deferred its indexes: drop the trigger that logs
    each row inserted into ``match_disclosure`` (``registry.match_changes``)
    and return the statement that creates it again; the load writes the same
    log rows itself (``bulk_rows.insert`` with ``log_changes``), in the same
    order, with one statement per batch. Fired once per row, the trigger took
    half of that table's write. The triggers on deletes and updates stay: a
    grant published twice in one load still replaces its first rows through
    them. PostgreSQL's trigger fires once per statement: it stays."""
    if conn.dialect.name != "sqlite":
        return []
    found = conn.execute(text(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = "
        "'match_change_on_insert' AND tbl_name = 'match_disclosure'")).scalar()
    if found is None:
        return []
    conn.exec_driver_sql("DROP TRIGGER match_change_on_insert")
    return [found]


def _rebuild_indexes(conn: Connection, definitions: list[str]) -> None:
    if definitions and conn.dialect.name == "sqlite":
        # The sorts to temporary files, as by default (see _SQLITE_LOAD); the
        # setting is put back after the load with the others.
        conn.exec_driver_sql("PRAGMA temp_store = DEFAULT")
    for definition in definitions:
        conn.exec_driver_sql(definition)


# SQLite, while loading: a page cache that holds the trees a batch writes into
# (the match index's are written in key order, but across the whole tree),
# helper threads for the sorts that build the deferred indexes at the end, and
# no foreign key lookups. Every row a load writes refers to a holder upserted or
# a disclosure id reserved earlier in the same transaction (``bulk_rows.insert``),
# which no other writer can remove meanwhile: the transaction holds SQLite's one
# write lock from its start (``_lock_for_writing``); and a replaced disclosure
# loses its child rows before itself (``bulk_state.drop_replaced``, as a
# retracted one in ``Policies.retract``). The lookups, one per row of the
# disclosure tables and the match index (about twenty per
# disclosure), could only confirm that; on a match_skill-shaped table they made
# an insert cost 2.6 instead of 1.8 us. Journal and synchronous settings stay as
# they are: a load is as crash safe as any other transaction. Temporary storage
# in memory keeps each insert's statement journal (the change-log trigger makes
# an insert into match_disclosure a statement that may have to be undone alone)
# out of a temporary file: once the journal had outgrown its 64 KiB in memory,
# every row cost about a dozen system calls writing a page of it to that file.
# The index builds at the end sort in temporary files again (``_rebuild_indexes``),
# so a large first load does not hold its sort in memory.
_SQLITE_LOAD = {"cache_size": -262144, "threads": 2, "foreign_keys": 0,
                "temp_store": 2}  # 256 MiB; temporary storage in memory


@contextmanager
def _load_transaction(engine: Engine) -> Iterator[Connection]:
    """One transaction on a connection with the load's settings, which are put
    back after the commit: ``foreign_keys`` can be changed only outside a
    transaction. Storage failures become StorageFailed, as in ``db.transaction``."""
    # The rows go in through the driver's own cursor (``bulk_rows.write``), whose
    # errors SQLAlchemy does not wrap: the driver's are translated here too.
    try:
        with engine.connect() as conn, _load_settings(conn), conn.begin():
            _lock_for_writing(conn)
            _compress_cheaply(conn)
            yield conn
    except (SQLAlchemyError, engine.dialect.loaded_dbapi.Error) as exc:
        raise StorageFailed() from exc


def _lock_for_writing(conn: Connection) -> None:
    """SQLite: the write lock from the transaction's first statement. The sqlite3
    module opens a transaction only before a data statement, so a batch's reads of
    the registry's state (sequences, withdrawn grants, known holders) would
    otherwise come before its transaction, and another writer (an erasure, a
    withdrawal) could change that state before the batch writes on it."""
    if (conn.dialect.name == "sqlite"
            and not conn.connection.driver_connection.in_transaction):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _compress_cheaply(conn: Connection) -> None:
    """PostgreSQL: the load's long values (a disclosure's document and projection
    make its row too wide to keep in place) compressed with lz4 where the server
    has it, instead of pglz: the same stored values, read back the same way, and
    a sixth less of the server's time per disclosure (measured: 103 to 87 us).
    For this transaction only."""
    if conn.dialect.name != "postgresql":
        return
    if conn.exec_driver_sql(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
            "WHERE name = 'default_toast_compression'").scalar():
        conn.exec_driver_sql("SET LOCAL default_toast_compression = lz4")


@contextmanager
def _load_settings(conn: Connection) -> Iterator[None]:
    """This connection's SQLite settings for a load, put back afterwards (the
    connection returns to the pool). A connection whose settings could not be
    put back is discarded, never returned to the pool without its foreign key
    checks."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = {name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
              for name in _SQLITE_LOAD}
    conn.commit()
    try:
        _set_pragmas(conn, _SQLITE_LOAD)
        yield
    finally:
        try:
            _set_pragmas(conn, before)
            restored = all(conn.exec_driver_sql(f"PRAGMA {name}").scalar() == value
                           for name, value in before.items())
            conn.commit()
        except SQLAlchemyError:
            restored = False
        if not restored:
            conn.invalidate()


def _set_pragmas(conn: Connection, values: Mapping[str, int]) -> None:
    """Set and end the (statement-less) transaction SQLAlchemy began for them,
    so that the load's own ``begin`` follows."""
    for name, value in values.items():
        conn.exec_driver_sql(f"PRAGMA {name} = {int(value)}")
    conn.commit()


def _batches(items: Iterator, first: int, most: int) -> Iterator[list]:
    """Lists of ``first`` items, then of twice as many each, then of ``most``."""
    size = min(first, most)
    while batch := list(islice(items, size)):
        yield batch
        size = min(size * 2, most)
