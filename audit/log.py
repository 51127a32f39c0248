"""The append-only Merkle tree log (DESIGN.md invariants 4 and 7, RFC 9162 2.1).

Every record (an LDV processing entry or a BIO access record) is a leaf; its index
``idx`` is its place in the tree. Each caller encodes its own records into rows
and leaf hashes (``audit.leaves``) before it queues them. An append locks the head
row, grows the frontier kept there by the whole group at once (``merkle.grow``),
and writes the rows (one ``COPY`` per table on PostgreSQL, the driver's
executemany on SQLite), the tiles it completed or grew (``audit.tiles``: 256
hashes of every eighth tree level per row; only the rightmost tile of a level is
rewritten, and the one this process wrote last is not read back while the head
still holds its tree) and the new head in one transaction: the caller's answer waits for
that commit, so what was shown is durable before it leaves (invariant 4). Requests
are batched as they come: one transaction holds every request queued in this
process while the previous one committed (group commit). The transaction runs
on the driver's connection, not through SQLAlchemy (``_transaction``), and on
SQLite always on the same one (``_writer``).

Checkpoints are C2SP signed notes of (origin, size, root) with a timestamp extension
line, signed with the registry's Ed25519 key; a new one is signed only if it is
consistent with the last one signed (c2sp.org/tlog-checkpoint: "never sign two
inconsistent checkpoints"). Proofs take the few tiles they need from a per-process
cache (``tiles.TileCache``: a stored hash never changes), the hashes on the tree's
right edge from the frontier of a head read earlier (``_Frontiers``), and read the
other tiles, with the head, in one statement (``audit.proof_reads``). ``verify``
(audit.verify) trusts no stored hash and no cache.

Known shortcoming: the appending process's CPU, on one core, bounds the rate. At
load 2-5 on this shared machine it filled the log to ten million at 29,822 entries
a second on SQLite (26,952 on PostgreSQL), against the 50,000 it should sustain:
29.5 us of CPU per entry there (21 at one million), 13 of them writing the rows,
their four indexes and the tiles, 8 encoding and hashing. The one-pass encoder
(``audit.leaves``) and growing the tree by whole levels came after: in fills to
one million at load 10-12 they took the appending process from 20.2-21.1 to
16.6-17.7 us per entry on SQLite and from 13.5-13.8 to 10.3-10.6 (client side)
on PostgreSQL; ten million was not measured again. Sharing a request's
encoding between its entries, multi-row INSERTs on SQLite and binary COPY took
one thread at a million entries from 15.6 to 13.4 us an entry on SQLite and
from 9.3 to 6.9 on the PostgreSQL client, whose server spends another 10-14; a
narrower trace index saves a little more, within the noise. Entries kept in
runs of a request's shared values (``audit.leaves.EntryRun``: on SQLite the
shared columns bound once per statement, on PostgreSQL each row refilled in
one list and serialised at once, so no list per entry keeps the garbage
collector busy) took fills to 300,000 at load 8-11 from 10.4-11.1 to 8.3-8.8
us an entry on SQLite and the PostgreSQL client from 6.5-7.3 to 5.9-6.5
(alternating runs; the server's 8.5-9.2 unchanged). Every thread of the
process shares the GIL, so entries per second come close to entries per
CPU-second. The fsync is not the limit: answering a group before its fsync was
tried and gave nothing. Group commit shares a transaction only among the threads
of one process; one appender process per deployment, fed by the API workers with
records they encoded and hashed themselves, would spread that work over the cores
and share every commit. See bench/results/audit.json and the README.

``append_while`` lets a request make its answer while another thread commits
its records (``audit.overlap``): a caller whose records wait for a leading
thread's group makes its answer meanwhile; the leading thread makes its own
once its commit is done. It handed it to a helper thread just before the
COMMIT, which runs in the driver without the GIL; in the match benchmark (1,000
holders, 200 queries, three alternating runs each, load 2.6-5) that cost the
process 0.46-0.47 ms of CPU a route against 0.34-0.41 without it (the thread
wake-ups and GIL hand-overs of each request), and the route with the audit took
3.09-4.20 ms against 2.77-3.01: the response (some 0.25 ms) hid nothing a
request waits for on this 2-core machine.

Known shortcoming: a page of ten candidates costs its request one append of
eleven records, and on SQLite the audit still adds about 0.4-0.5 ms of CPU to a
page, plus the wait for one fsync of the WAL; the route's response (some 0.15
ms) is built while the commit runs. Most of it is SQLite's COMMIT, which writes
every page the append dirtied and fsyncs them before the answer (invariant 4).
The entries by subject are not an index of the entries but a table written
behind the log (``audit.subject_index``): the index took a page per subject into
each commit. That took one page's append, on its thread, from 855 to 551 us of
CPU (the COMMIT from 347 to 224, the entries' statement from 214 to 63) and the
process's CPU per page from 1,015 to 724 us, the batches behind the log
included (bench/audit_page_stages.py, one run each at load 11-12). The
entries' organisation and time, time, and trace indexes went the same way, to
the table ``<prefix>_entry_keys`` written in the same batches: in that
benchmark with the thread behind the log off, so that the WAL's growth is the
commit's alone (3,000 pages of fill, two alternating runs each at load
7-8), a commit wrote 10.0 WAL pages against 16.4, and of the appending
thread's CPU per page (medians) the whole append took 546-556 us against
556-712, the COMMIT 222-225 against 241-312 and the entries' statement 45-47
against 74-89. In the match benchmark (300 holders, 200 queries, two
alternating runs each, load 6-8) the calling thread's CPU the audit adds to
the route went from 0.43-0.64 ms to 0.33-0.43 ms (ratio 1.12-1.16 to
1.08-1.11); the wall-clock ratios (1.7-2.7) measured the fsync at that load.
The fill gains nothing from it: filling to 2,000,000 on SQLite (16 callers,
requests of 100, two alternating runs each, load 5.7-7.4) ran at 26,154 and
28,866 entries/s against 37,075 and 28,409 with the indexes in the commit.
The leading thread's statements took 5.3-5.5 CPU-seconds against 9.0-10.4,
but the process spent 30.5-31.6 against 26.6-30.4 (the batches behind the log
now write four B-trees more, the trace index still at random places), and the
commit stage was blocked 39-40 s against 17-21: the batch holds
SQLite's write lock, and an append that meets it sleeps in the busy handler.
The batch now runs on the appending connection, between two group commits
(``_on_writer``): appends queue in the process instead of sleeping in the busy
handler, and neither connection's page cache is dropped by the other's
writes. Filling to ten million on SQLite (one run each, load 7-10) it ran at
25,291 entries/s against 21,201, the commit stage blocked 231 s against 275,
but the process's CPU per entry was 18.5 us against 19.0: in both, the CPU of
an interval grew from 11-12 us an entry at the start to 21-25 past six
million. Known shortcoming: that growth was not profiled; the likely cause
is the batches' B-tree inserts into the subjects table at random places (a
page per entry once the table has more pages than a batch has entries, and
the writer's page cache holds some 500); a larger cache for the writer, or a
layout whose inserts land together (keyed by a range of ``idx`` first, at a
seek per range in a holder's query), are the next things to measure.
The access records' trace and actor indexes went the same way, to the table
``<prefix>_access_keys`` written in the same batches: a commit of a page of ten
candidates (3,000 pages of fill, the thread behind the log off) wrote 7.4 WAL
pages against 10.2; the frames of 300 commits, by b-tree, were the entries
3.1, the partial tile 1.2, the access record 1.0, the head 1.0 and the database
header 1.0 (written whenever the file grows), against 1.6 and 1.1 more for the
trace and actor indexes before. The ratio the match benchmark aims for (1.1 on
a 3.1 ms query) leaves about 0.3 ms for all of it; getting
there needs fewer pages still: a durable append-only journal of the encoded
records as the commit point, with the tables written behind it in larger
batches and the journal replayed on open (and read by every query that must
see the newest records), a change of design with its own crash tests.
Profiled again (perf and strace over bench/audit_page_stages.py, 2,000 pages
after 5,000, the thread behind the log on): of the process's 730 us of CPU a
page the kernel took 37% (fdatasync 15%; pwrite 13%, SQLite writing each WAL
frame's header and page in two calls), the interpreter 43% (building the
records included), SQLite 11%, SHA-256 2.5%. An fdatasync of 28 KB on this
machine's disk alone took 0.13 ms at the median and 4 ms at the 90th
percentile while other processes wrote. In the match benchmark at load 3-5
the route took 2.3 ms without the audit, to which the audit added 0.34-0.41
ms of the process's CPU: more than the 0.23 ms a ratio of 1.1 leaves, before
any wait for the fsync. Tuning one SQLite transaction a request does not get
there; the journal above, or a page's shared values stored once (perhaps two
of its 7.4 WAL frames, and most of the 62 values it binds), are the candidates.
"""

from __future__ import annotations

import base64
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import Connection, Engine, delete, event, select, true, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from audit import merkle, migrate, proof_reads, prunes, tiles
from audit.overlap import Overlapped
from audit.entry import AccessRecord, AuditEntry, Record, iso_ms
from audit.entry import to_epoch_ms
from audit.errors import (
    AuditAppendFailed,
    AuditError,
    AuditUnavailable,
    CheckpointRefused,
    InvalidAuditEntry,
    InvalidAuditQuery,
    NoSuchEntry,
)
from audit.leaves import MEMBER_WIDTH, EntryRun, leaf_rows
from audit.note import Checkpoint, Signer, Verifier, format_proof
from audit.note import unverified_checkpoint
from audit.tables import AuditTables, audit_tables, copy_types, insert_sql
from audit.tables import row_record, run_insert_sql
from audit.subject_index import SubjectIndexer
from audit.wal import WalCheckpointer

T = TypeVar("T")
_HEAD_ID = 1
_HASH_HEX = 64
_GROUP_LIMIT = 5000  # records per group-commit transaction, beyond the first caller's
# Rows per INSERT statement on SQLite: 128 rows of 17 columns are 2,176 parameters
# (128 entries of a run 652), well below SQLite's limit of 32,766 (3.32 and later).
_SQLITE_ROWS = 128


class _Waiter:
    """One caller's records, encoded (entry runs, access rows and leaf hashes),
    waiting to be written. Each row and run member starts with its record's
    offset among ``records``; the leading thread turns it into the leaf index
    when it places the batch (once: a waiter is written in one transaction or
    fails)."""

    def __init__(self, records: list[Record],
                 work: Overlapped | None = None) -> None:
        self.records = records
        self.work = work  # the rest of the request (``append_while``)
        self.entry_runs, self.access_rows, self.leaves = leaf_rows(records)
        # Made only for a caller that queues behind a leading thread
        # (``MerkleLog._append``): one that leads never waits on it.
        self.done: threading.Event | None = None
        self.lead = False
        self.failed: Exception | None = None
        self.indices: list[int] = []

    def outcome(self) -> list[int]:
        if self.failed is not None:
            raise AuditAppendFailed(len(self.records)) from self.failed
        return self.indices


class _Statements(NamedTuple):
    """The texts of an append's statements on the head and the tiles, made once
    per log: formatting them cost every append more than some of them took."""

    read_head: str  # in a transaction that holds the write lock already
    lock_head: str  # takes the lock, then reads
    write_head: str
    upsert_tile: str


def _statements(tables: AuditTables, paramstyle: str) -> _Statements:
    """``_Statements`` with the driver's parameter marker (qmark on SQLite,
    format on psycopg); only validated table names go into the texts."""
    mark = "?" if paramstyle == "qmark" else "%s"
    head = tables.head.name
    return _Statements(
        f"SELECT size, frontier, pruned FROM {head} WHERE id = {_HEAD_ID}",
        f"UPDATE {head} SET size = size WHERE id = {_HEAD_ID} "
        "RETURNING size, frontier, pruned",
        f"UPDATE {head} SET size = {mark}, root_hash = {mark}, "
        f"frontier = {mark} WHERE id = {_HEAD_ID}",
        # Only the partial tile of a level is ever rewritten (and its nodes
        # written once it is full); full ones are new rows.
        f"INSERT INTO {tables.tiles.name} (level, number, hashes, nodes) "
        f"VALUES ({mark}, {mark}, {mark}, {mark}) ON CONFLICT (level, number) "
        "DO UPDATE SET hashes = excluded.hashes, nodes = excluded.nodes")


class Head(NamedTuple):
    """Size and root (hex) of the tree, and how many leading leaves were pruned."""

    size: int
    root_hash: str
    pruned: int = 0


@dataclass(frozen=True)
class Proof:
    index: int
    size: int
    hashes: list[bytes]

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "treeSize": self.size,
                "hashes": [base64.b64encode(h).decode() for h in self.hashes]}


class MerkleLog:
    """The tree and its records in the ``<prefix>_*`` tables of ``engine``. Safe to share between
    threads and to open from several processes at once. ``signer`` signs
    checkpoints; without it the log can be appended to and verified, not published.
    """

    def __init__(self, engine: Engine, *, prefix: str = "audit",
                 signer: Signer | None = None,
                 tile_cache_bytes: int = 64 << 20,
                 wal_thread: bool = True, subject_thread: bool = True) -> None:
        self._engine = engine
        self._tables = audit_tables(prefix)
        self._prefix = prefix
        self._tile_cache = tiles.TileCache(tile_cache_bytes)
        self._heads = _Frontiers()
        self._postgres_reader = (proof_reads.PostgresProofReader(engine)
                                 if engine.dialect.name == "postgresql" else None)
        self._wal = (WalCheckpointer(engine)
                     if wal_thread and engine.dialect.name == "sqlite" else None)
        self._sqlite = engine.dialect.name == "sqlite"
        # Held while the SQLite writer (``_writer``) is in use: by the leading
        # thread for a group's transaction, by the subjects thread for a batch.
        self._writer_lock = threading.Lock()
        self._subjects = (SubjectIndexer(
            engine, self._tables,
            on_writer=_on_writer_of(self) if self._sqlite else None)
            if subject_thread else None)
        self._signer = signer
        self._queue_lock = threading.Lock()
        self._queue: list[_Waiter] = []
        self._leading = False
        self._held: Any = None  # the SQLite connection appends write on (_writer)
        if self._sqlite:
            event.listen(engine, "engine_disposed", _releases_writer_of(self))
        # The partial tiles this process last wrote, with the tree they belong to.
        self._partial: tuple[int, list[bytes], dict[tiles.TileKey, bytes]] | None = None
        # The head this process last wrote: size, stored frontier text and the
        # frontier, known again when read back (``_lock_head``).
        self._written: tuple[int, str, tuple[bytes, ...]] | None = None
        self._sql = _statements(self._tables, engine.dialect.paramstyle)

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def tables(self) -> AuditTables:
        return self._tables

    @property
    def verifier(self) -> Verifier | None:
        return self._signer.verifier if self._signer else None

    @property
    def origin(self) -> str | None:
        return self._signer.name if self._signer else None

    def create_tables(self) -> None:
        """Create or upgrade the tables (``audit.migrate``, keeping every record)
        and the empty head; safe to run again."""
        head, mark = self._tables.head, self._tables.subjects_mark
        with self._storage("create the audit tables"):
            migrate.upgrade(self._engine, self._prefix)
            # Workers starting together may both find no head and both insert it; the
            # loser's IntegrityError means the one empty head exists, which is the goal.
            with suppress(IntegrityError), self._engine.begin() as conn:
                if conn.execute(select(head.c.id)).first() is None:
                    conn.execute(head.insert().values(
                        id=_HEAD_ID, size=0, root_hash=merkle.EMPTY_ROOT.hex(),
                        frontier="", pruned=0))
            with suppress(IntegrityError), self._engine.begin() as conn:
                if conn.execute(select(mark.c.id)).first() is None:
                    conn.execute(mark.insert().values(id=1, upto=0))

    # --- appending ----------------------------------------------------------------

    def append(self, records: Sequence[Record]) -> list[int]:
        """Append in a committed transaction; returns the leaf indices.

        Concurrent appends in this process share one transaction (group commit):
        the first caller writes everything queued, the others wait until the commit
        that holds their records is done, and only then return. So every caller
        still returns only once its records are durable (invariant 4), and one
        fsync serves many requests. Fail closed: whatever goes wrong, the caller
        gets ``AuditAppendFailed`` and none of its records are in the log. If the
        connection drops during COMMIT the records may still be in the log; that
        errs on the side of logging an answer that was never sent.
        """
        return self._append(records, None)

    def append_while(self, records: Sequence[Record], work: Callable[[], T]) -> T:
        """Append as ``append`` does, and run ``work`` (the rest of the request,
        such as building its answer): while another thread commits the group
        that holds the records, else after this thread committed them
        (``audit.overlap``); return its result once they are durable: the answer
        may be made meanwhile, it leaves only after (invariant 4). If the append
        fails, ``AuditAppendFailed`` is raised and the result dropped. If
        ``work`` raises, its error is raised once the records are durable; they
        stay logged, as for an answer that was never sent."""
        overlapped = Overlapped(work)
        self._append(records, overlapped)
        return overlapped.result()

    def _append(self, records: Sequence[Record], work: Overlapped | None
                ) -> list[int]:
        batch = list(records)
        if not all(isinstance(r, (AuditEntry, AccessRecord)) for r in batch):
            raise InvalidAuditEntry("records", "a sequence of AuditEntry/AccessRecord")
        if not batch:
            return []
        try:  # encoded here, by the caller: errors stay its own
            waiter = _Waiter(batch, work)
        except Exception as exc:
            raise AuditAppendFailed(len(batch)) from exc
        with self._queue_lock:
            leading = not self._leading
            if not leading:
                waiter.done = threading.Event()
            self._queue.append(waiter)
            self._leading = True
        if not leading:
            if work is not None:
                work.run()  # while the leading thread commits
            waiter.done.wait()  # type: ignore[union-attr]
            if not waiter.lead:
                return waiter.outcome()
        self._lead()
        return waiter.outcome()

    def _lead(self) -> None:
        """Write what is queued (up to ``_GROUP_LIMIT`` records) in one transaction,
        then hand the lead to the next waiting caller, if any."""
        with self._queue_lock:
            group, taken = [], 0
            while self._queue and (not group or taken < _GROUP_LIMIT):
                group.append(self._queue.pop(0))
                taken += len(group[-1].records)
        try:
            if self._sqlite:
                with self._writer_lock:
                    self._transaction(group)
            else:
                self._transaction(group)
        except Exception as exc:  # anything at all: those requests must fail (inv. 4)
            for waiter in group:
                waiter.failed = exc
        else:
            if self._wal is not None:
                self._wal.nudge(sum(len(waiter.records) for waiter in group))
            if self._subjects is not None:
                self._subjects.nudge(group[-1].indices[-1] + 1)
        for waiter in group[1:]:
            waiter.done.set()  # type: ignore[union-attr]
        with self._queue_lock:
            if self._queue:
                self._queue[0].lead = True
                self._queue[0].done.set()  # type: ignore[union-attr]
            else:
                self._leading = False

    def _transaction(self, group: list[_Waiter]) -> None:
        """Write ``group`` in one transaction on a connection of the driver's
        own, committed before this returns. SQLAlchemy's connection, transaction
        and statement handling around the few statements of an append cost more
        CPU than the statements did (bench/audit_bench.py, match). Anything
        that fails rolls back and the connection is given up (``_writer``)."""
        fairy = self._writer()
        raw = fairy.dbapi_connection
        try:
            if self._sqlite:
                # ``make_engine`` leaves transactions to us (autocommit mode).
                # IMMEDIATE takes the write lock at once, so the head is only
                # read here and written once, at the end (``_lock_head``).
                raw.execute("BEGIN IMMEDIATE")
            self._append_locked(raw, group, locked=self._sqlite)
            self._commit(raw)
        except BaseException:
            self._give_up(fairy, raw)
            raise
        if not self._sqlite:
            fairy.close()

    def _on_writer(self, batch: Callable[[Any], T]) -> T:
        """Run ``batch`` (the subjects thread's, ``audit.subject_index``) in a
        transaction of its own on the SQLite writer, between two group commits.

        On a connection of its own the batch was a second writer: an append
        that met its write lock slept in SQLite's busy handler (a millisecond
        and more, many times over; the fill to ten million spent most of its
        commit stage blocked), and each of the two connections dropped its page
        cache whenever the other had written, so each batch read the pages of
        the subjects table and the key indexes it wrote again, and each append
        the head, tiles and tables'. Here appends queue while a batch runs and
        go in the next group. The batch commits without its own fsync
        (``synchronous = NORMAL`` for that one commit): its rows are derived
        from entries already durable, it moves the mark in the same
        transaction, and the next append's fsync of the WAL makes it durable
        too; lost in a crash, it is written again by the next batch. The
        connection's setting is restored before any append runs on it; after
        any failure the connection is given up, as ``_transaction`` does."""
        with self._writer_lock:
            fairy = self._writer()
            raw = fairy.dbapi_connection
            try:
                level = int(raw.execute("PRAGMA synchronous").fetchone()[0])
                raw.execute("PRAGMA synchronous = NORMAL")
                raw.execute("BEGIN IMMEDIATE")
                result = batch(raw)
                raw.commit()
                raw.execute(f"PRAGMA synchronous = {level}")
            except BaseException:  # given up, so never used at NORMAL again
                self._give_up(fairy, raw)
                raise
            return result

    def _give_up(self, fairy, raw) -> None:
        """After a failure on the writer: roll back, or drop the connection when
        even that fails, and take a new one next time."""
        self._held = None
        try:
            raw.rollback()
        except Exception:
            fairy.invalidate()
        fairy.close()

    def _writer(self) -> Any:
        """The connection an append writes on. On PostgreSQL one from the pool
        each time (its check-out test, ``audit.db``, replaces a connection the
        server closed). On SQLite the same one every time, taken out of the
        pool (made with the engine's settings, then detached): in WAL mode a
        connection drops its whole page cache when another connection wrote
        last, and the pool hands out its connections in turn, so each append
        read the head, the tables' and the indexes' pages again, 0.1 ms a page
        of ten candidates. Given up after any failure, so the next append
        starts on a fresh one. Only the leading thread uses it (``_lead``)."""
        if self._held is not None:
            return self._held
        fairy = self._engine.raw_connection()
        if self._sqlite:
            fairy.detach()
            self._held = fairy
        return fairy

    def close(self) -> None:
        """Stop and join the threads behind the log (``audit.subject_index``,
        waiting for a batch in progress; the WAL checkpoint) and close the
        SQLite writer. Appends after this still work, on the
        appending thread; the subjects table then waits for a ``catch_up``."""
        if self._subjects is not None:
            self._subjects.stop()
        if self._wal is not None:
            self._wal.stop()
        self._release_writer()

    def _release_writer(self) -> None:
        """Close the SQLite connection appends write on (the engine was
        disposed: its own connections are closed, so is this one)."""
        held, self._held = self._held, None
        if held is not None:
            with suppress(Exception):
                held.close()

    def _commit(self, raw: Any) -> None:
        raw.commit()

    def _append_locked(self, raw: Any, group: list[_Waiter],
                       locked: bool = False) -> None:
        """The append's statements, on the DBAPI connection ``raw`` inside its
        open transaction (``_transaction``; ``prune``'s own); ``locked`` if that
        transaction holds the write lock already (SQLite's ``BEGIN IMMEDIATE``)."""
        start, frontier, _pruned = self._lock_head(raw, locked)
        before = list(frontier)
        size = start
        runs: list[EntryRun] = []
        access: list[list[Any]] = []
        leaves: list[bytes] = []
        for waiter in group:
            for run in waiter.entry_runs:
                offsets = run.members[0::MEMBER_WIDTH]
                run.members[0::MEMBER_WIDTH] = [offset + size for offset in offsets]
            runs += waiter.entry_runs
            for row in waiter.access_rows:
                row[0] += size
            access += waiter.access_rows
            leaves += waiter.leaves
            waiter.indices = list(range(size, size + len(waiter.leaves)))
            size += len(waiter.leaves)
        size, grown = merkle.grow(frontier, start, leaves)
        partial = self._partial_tiles(raw, start, before)
        try:
            changed = tiles.grown_tiles(start, grown, partial)
        except ValueError as exc:
            raise AuditError("the stored tiles do not match the audit head; "
                             "run verify") from exc
        kept = {key: changed.get(key) or partial.get(key)
                for key in tiles.partial_tiles(size)}
        self._partial = (size, list(frontier), kept) if all(kept.values()) else None
        if runs:
            self._insert_entries(raw, runs)
        if access:
            self._insert_rows(raw, self._tables.access, access)
        self._write_tiles(raw, changed, start, grown)
        self._write_head(raw, size, frontier)

    def _write_tiles(self, raw: Any, changed: dict[tiles.TileKey, bytes],
                     size: int, grown: dict[int, bytes]) -> None:
        """The tiles an append to the tree of ``size`` leaves grew by ``grown``
        changed, each full one with its node hashes (``tiles.full_tile_nodes``)."""
        if not changed:
            return
        rows = [(lv, n, data, tiles.full_tile_nodes(size, grown, (lv, n), data)
                 if len(data) == tiles.TILE_BYTES else None)
                for (lv, n), data in changed.items()]
        cursor = raw.cursor()
        try:
            if len(rows) == 1:  # the partial tile of level 0, most appends
                cursor.execute(self._sql.upsert_tile, rows[0])
            else:
                cursor.executemany(self._sql.upsert_tile, rows)
        finally:
            cursor.close()

    def _write_head(self, raw: Any, size: int, frontier: list[bytes]) -> None:
        """Write the new head; kept as ``_written``, so the next append that
        reads it back (committed) need not parse its frontier again."""
        text = b"".join(frontier).hex()
        cursor = raw.cursor()
        try:
            cursor.execute(self._sql.write_head,
                           (size, merkle.root_from_frontier(frontier).hex(), text))
        finally:
            cursor.close()
        self._written = (size, text, tuple(frontier))

    def _partial_tiles(self, raw: Any, size: int, frontier: list[bytes]
                       ) -> dict[tiles.TileKey, bytes]:
        """The stored partial tiles of the tree of ``size`` leaves: those this
        process wrote last if that tree is still the head (the same size and
        frontier: the frontier's hashes commit to every leaf, RFC 9162 2.1.1, so
        no other tree has it), else read. An append by another process, or one
        that failed, changes the head, and the tiles are read again."""
        kept = self._partial
        if kept is not None and kept[0] == size and kept[1] == frontier:
            return kept[2]
        return self._read_tiles(raw, tiles.partial_tiles(size))

    def _insert_rows(self, raw: Any, table: Any, rows: list[list[Any]]) -> None:
        """Positional rows (lists, as ``leaf_rows`` makes them) straight to the
        driver, on the transaction's connection: binary ``COPY`` on PostgreSQL
        (the server takes each value as it is stored, parsing no text), on
        SQLite ``INSERT``s of ``_SQLITE_ROWS`` rows each and the driver's
        executemany for the rest. SQLAlchemy's per-row parameter processing cost
        as much as the insert itself; a statement per row costs a reset, a step
        and a release of the GIL per row (README, audit log benchmark)."""
        if self._engine.dialect.name == "postgresql":
            self._copy_rows(raw, table, rows)
            return
        cursor = raw.cursor()
        try:
            full = len(rows) - len(rows) % _SQLITE_ROWS
            if full:
                sql = insert_sql(table, "qmark", _SQLITE_ROWS)
                width = _SQLITE_ROWS * len(table.columns)
                values = list(chain.from_iterable(rows[:full]))
                for start in range(0, len(values), width):
                    cursor.execute(sql, values[start:start + width])
            if full == len(rows) - 1:  # one row, a request's access record
                cursor.execute(insert_sql(table, "qmark"), rows[full])
            elif full < len(rows):
                cursor.executemany(insert_sql(table, "qmark"), rows[full:])
        finally:
            cursor.close()

    def _copy_rows(self, raw: Any, table: Any, rows: Iterable[list[Any]]) -> None:
        """Binary ``COPY`` of ``rows`` into ``table`` (PostgreSQL), each row
        serialised as it comes."""
        names = ", ".join(c.name for c in table.columns)
        with raw.cursor() as cursor, cursor.copy(
                f"COPY {table.name} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(copy_types(table))
            for row in rows:
                copy.write_row(row)

    def _insert_entries(self, raw: Any, runs: list[EntryRun]) -> None:
        """The entries, run by run (``audit.leaves.EntryRun``, members placed).
        On PostgreSQL as whole rows by binary ``COPY``, each serialised from one
        list per run refilled for each entry (``EntryRun.refilled_rows``). On
        SQLite each run's shared columns are bound once per statement and only
        ``idx`` and the entry's own values (span, subject, fields, grants) per
        entry (``run_insert_sql``): the driver converts and SQLite copies each
        bound value, and an entry shares twelve of its seventeen with its run
        (a page of candidates is one run, one statement). Runs go in statements of a
        power of two of entries up to ``_SQLITE_ROWS``, so a handful of texts
        stay compiled in the driver's statement cache."""
        if self._engine.dialect.name == "postgresql":
            self._copy_rows(raw, self._tables.entries, chain.from_iterable(
                run.refilled_rows() for run in runs))
            return
        table = self._tables.entries
        cursor = raw.cursor()
        try:
            for run in runs:
                shared, members = list(run.shared), run.members
                done, left = 0, len(members) // MEMBER_WIDTH
                while left:
                    count = min(_SQLITE_ROWS, 1 << (left.bit_length() - 1))
                    cursor.execute(run_insert_sql(table, count),
                                   shared + members[MEMBER_WIDTH * done:
                                                    MEMBER_WIDTH * (done + count)])
                    done, left = done + count, left - count
        finally:
            cursor.close()

    def _lock_head(self, raw: Any, locked: bool = False
                   ) -> tuple[int, list[bytes], int]:
        # The first statement writes the head row: on PostgreSQL that takes the row
        # lock, on SQLite the RESERVED (write) lock, so concurrent appenders queue
        # here and each reads the head only after the previous one committed. A
        # transaction that holds the lock already (``locked``: SQLite's BEGIN
        # IMMEDIATE) only reads it: one statement less in each append, which
        # writes the head at its end anyway. Written out rather than built with
        # SQLAlchemy: building and caching the statement cost more than running
        # it, on every transaction.
        cursor = raw.cursor()
        try:
            rows = cursor.execute(self._sql.read_head if locked
                                  else self._sql.lock_head).fetchall()
        finally:
            cursor.close()
        if len(rows) != 1:
            raise AuditError("the audit log has no head row (run create_tables)")
        size, text, pruned = rows[0]
        written = self._written
        if written is not None and written[0] == size and written[1] == text:
            frontier = list(written[2])  # this process's last head, committed
        else:
            frontier = [bytes.fromhex(text[i:i + _HASH_HEX])
                        for i in range(0, len(text), _HASH_HEX)]
            if len(frontier) != len(merkle.frontier_levels(size)):
                raise AuditError("the audit head's frontier does not match its size")
        # The head as committed before this transaction: a tree the log has, and
        # keeps (it is append-only), whatever this transaction does next.
        self._heads.remember(size, frontier)
        return size, frontier, pruned

    # --- the head, checkpoints and proofs -----------------------------------------

    def head(self) -> Head:
        with self._storage("read the audit head"), self._engine.connect() as conn:
            return self._read_head(conn)

    def _read_head(self, conn: Connection) -> Head:
        head = self._tables.head
        row = conn.execute(select(head.c.size, head.c.root_hash, head.c.pruned,
                                  head.c.frontier)).first()
        if row is None:
            raise AuditError("the audit log has no head row (run create_tables)")
        self._heads.remember(row.size, [
            bytes.fromhex(row.frontier[i:i + _HASH_HEX])
            for i in range(0, len(row.frontier), _HASH_HEX)])
        return Head(row.size, row.root_hash, row.pruned)

    def checkpoint(self, now: datetime) -> str:
        """The signed checkpoint of the current head: the stored one if the tree has
        not grown since, else a new one, signed only after a consistency proof from
        the last signed checkpoint verified against the stored hashes, and only
        if every prune record appended since carries the key's signature (a
        checkpoint over one that does not would vouch for it, ``audit.prunes``).

        The stored one is found by one read, with no lock and no commit: a
        checkpoint of the head's size and root is that tree's, however long ago it
        was signed (c2sp.org/tlog-checkpoint: a checkpoint names a tree, and its
        ``timestamp`` line says when the log signed it, not when it was served;
        ``now`` is used only to sign a new one). Only a tree that has grown takes
        the head's lock and commits its new checkpoint."""
        if self._signer is None:
            raise AuditError("this audit log has no signing key")
        with self._storage("read a checkpoint"), self._engine.connect() as conn:
            stored = self._checkpoint_of_head(conn)
        if stored is not None:
            return stored
        table = self._tables.checkpoints
        with self._storage("sign a checkpoint"), self._engine.begin() as conn:
            size, frontier, _ = self._lock_head(conn.connection.dbapi_connection)
            root = merkle.root_from_frontier(frontier)
            last = conn.execute(select(table).order_by(table.c.size.desc())
                                .limit(1)).first()
            if last is not None and last.size == size:
                if last.root_hash != root.hex():
                    raise CheckpointRefused(size)
                return last.note
            if last is not None:
                self._check_consistent(conn, last.size, bytes.fromhex(last.root_hash),
                                       size, root)
            unsigned = prunes.first_unsigned(conn, self._tables,
                                             0 if last is None else last.size, size,
                                             self._signer.verifier)
            if unsigned is not None:
                raise CheckpointRefused(size, unsigned_prune=unsigned)
            text = Checkpoint(self._signer.name, size, root).text()
            note = self._signer.sign(text + f"timestamp {iso_ms(now)}\n")
            conn.execute(table.insert().values(
                size=size, root_hash=root.hex(), note=note,
                signed_at_ms=to_epoch_ms(now)))
            return note

    def _checkpoint_of_head(self, conn: Connection) -> str | None:
        """The newest stored checkpoint if it is of the head's size and root,
        read with the head in one statement (one snapshot); else None: the tree
        has grown past it, there is none, or something does not match, which
        ``checkpoint`` then finds (and refuses) under the head's lock."""
        head, table = self._tables.head, self._tables.checkpoints
        last = (select(table.c.size, table.c.root_hash, table.c.note)
                .order_by(table.c.size.desc()).limit(1).subquery())
        row = conn.execute(
            select(head.c.size, head.c.frontier, last.c.size.label("signed"),
                   last.c.root_hash, last.c.note)
            .select_from(head.outerjoin(last, true()))).first()
        if row is None or row.signed != row.size:
            return None
        frontier = [bytes.fromhex(row.frontier[i:i + _HASH_HEX])
                    for i in range(0, len(row.frontier), _HASH_HEX)]
        if (len(frontier) != len(merkle.frontier_levels(row.size))
                or merkle.root_from_frontier(frontier).hex() != row.root_hash):
            return None  # the locked path says what is wrong
        self._heads.remember(row.size, frontier)
        return row.note

    def latest_checkpoint(self) -> str | None:
        table = self._tables.checkpoints
        stmt = select(table.c.note).order_by(table.c.size.desc()).limit(1)
        with self._storage("read a checkpoint"), self._engine.connect() as conn:
            return conn.execute(stmt).scalar()

    def _check_consistent(self, conn: Connection, old: int, old_root: bytes,
                          new: int, new_root: bytes) -> None:
        if old == 0:
            return
        get = self._nodes(merkle.consistency_nodes(old, new), new, conn)
        try:
            merkle.verify_consistency(old, new, old_root, new_root,
                                      merkle.consistency_proof(old, new, get))
        except (merkle.ProofError, KeyError):
            raise CheckpointRefused(new) from None

    def inclusion(self, index: int, size: int | None = None) -> Proof:
        """The inclusion proof of leaf ``index`` in the tree of ``size`` leaves
        (default: the current head)."""
        with self._storage("read an inclusion proof"):
            if size is None:
                size = self.head().size
            elif type(size) is not int or size < 1:
                self._refuse_size()
            if type(index) is not int or not 0 <= index < size:
                self._refuse_size(beyond=size)
                raise NoSuchEntry(index)
            path = merkle.inclusion_path(index, size)
            get = self._nodes({node for cover in path for node in cover}, size)
            return Proof(index, size, merkle.path_hashes(path, get))

    def inclusions(self, indices: Sequence[int], size: int) -> dict[int, Proof]:
        """Inclusion proofs of several leaves in one read of the stored hashes."""
        paths = {index: merkle.inclusion_path(index, size) for index in indices}
        needed = {node for path in paths.values() for cover in path
                  for node in cover}
        with self._storage("read inclusion proofs"):
            get = self._nodes(needed, size)
        return {i: Proof(i, size, merkle.path_hashes(path, get))
                for i, path in paths.items()}

    def consistency(self, old: int, new: int) -> Proof:
        with self._storage("read a consistency proof"):
            if type(new) is not int or new < 1:
                self._refuse_size()
            if type(old) is not int or not 0 < old <= new:
                self._refuse_size(beyond=new)
                raise InvalidAuditQuery("old", f"an integer from 1 to {new}")
            get = self._nodes(merkle.consistency_nodes(old, new), new)
            return Proof(old, new, merkle.consistency_proof(old, new, get))

    def proof_text(self, index: int) -> str:
        """A c2sp.org/tlog-proof of leaf ``index`` against the newest checkpoint."""
        note = self.latest_checkpoint()
        if note is None or self.verifier is None:
            raise AuditError("no checkpoint has been signed yet")
        size = unverified_checkpoint(note).size
        if not 0 <= index < size:
            raise NoSuchEntry(index)
        return format_proof(index, self.inclusion(index, size).hashes, note)

    def _refuse_size(self, beyond: int = 0, current: int | None = None) -> None:
        """Refuse a tree size that is not one the head has reached (an integer from
        1 to the head's size); with ``beyond``, only if that size is past the head.
        Read on the way to an error only (unless the caller has just read the
        head's size, ``current``): a proof that succeeds needs no extra read."""
        if current is None:
            current = self.head().size
        if not 0 < beyond <= current:
            raise InvalidAuditQuery("size", f"an integer from 1 to {current}")

    def _proof_reader(self) -> Connection:
        """A connection for proofs on SQLite: the tiles are read by one statement
        outside any transaction (``_read_for_proof``), which is all the snapshot
        a proof needs: a hash, once stored, never changes (``tiles.TileCache``)."""
        return self._engine.connect()

    def _nodes(self, needed: set[tuple[int, int]], size: int,
               conn: Connection | None = None) -> merkle.NodeSource:
        """The subtree hashes a proof within the tree of ``size`` leaves needs.

        The hashes on the tree's right edge come from the frontier of that size
        when this process has seen a head of that size (``_Frontiers``); the
        others from the tiles that hold them: from the tile cache where it holds
        enough of a tile, the rest read in one statement (and cached). A proof
        whose tiles are all cached, and whose right edge is known, touches no
        database at all.

        The statement that reads the tiles reads the head too, and a size beyond
        it is refused: no proof for a tree the log does not have, whatever the
        caches hold. Without the frontier of ``size`` the last leaf's hash is
        asked for as well, as a proof within a transaction (``conn``) reads no
        head: it is stored only once the tree has reached ``size`` (tiles and
        head are written in one transaction), so if any hash is missing the head
        says whether the size was beyond it (a caller's mistake) or the store
        lost hashes (run verify)."""
        edge = self._heads.edge(size)
        needed = needed - edge.keys() if edge else {*needed, (0, size - 1)}
        found: dict[tiles.TileKey, tiles.Cached] = {}
        missing = []
        for key, count in tiles.hashes_needed(needed).items():
            kept = self._tile_cache.get(key, count)
            if kept is None:
                missing.append(key)
            else:
                found[key] = kept
        if missing:
            if conn is None:
                read = self._read_for_proof(missing)
                self._heads.remember(read.size, read.frontier)
                self._refuse_size(beyond=size, current=read.size)
                raw, nodes = read.tiles, read.nodes
            else:
                raw = self._read_tiles(conn.connection.dbapi_connection, missing)
                nodes = {}
            for key, data in raw.items():
                found[key] = self._tile_cache.add(key, data, nodes.get(key))
        source = tiles.TileSource(found, known=edge)
        try:
            for level, position in needed:
                source(level, position)
        except KeyError:
            self._refuse_size(beyond=size)
            raise AuditError("the audit log is missing stored hashes; run verify"
                             ) from None
        return source

    def _read_for_proof(self, keys: list[tiles.TileKey]) -> proof_reads.ProofRead:
        """The head and the tiles ``keys`` (``audit.proof_reads``): on PostgreSQL
        by the log's own connections, on SQLite through the driver's cursor
        (SQLAlchemy's statement handling and result wrapping cost more than the
        query; the sqlite3 module keeps the few statement texts compiled)."""
        names = (self._tables.tiles.name, self._tables.head.name)
        if self._postgres_reader is not None:
            return self._postgres_reader.read(*names, keys)
        rows: list[Any] = []
        with self._proof_reader() as conn:
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore
            try:
                for count, params in proof_reads.chunks(keys):
                    sql = proof_reads.statement(*names, count, postgres=False)
                    rows += cursor.execute(sql, params).fetchall()
            finally:
                cursor.close()
        return proof_reads.parse(rows)

    def _read_tiles(self, raw: Any, keys: Iterable[tiles.TileKey]
                    ) -> dict[tiles.TileKey, bytes]:
        """Tiles by ``(level, number)`` in one query, answered from the primary key,
        through the driver's own cursor on its connection ``raw`` (an append's or
        a checkpoint's, which has read the head): SQLAlchemy's statement handling
        and result wrapping cost more than the query. Proofs read by
        ``_read_for_proof``."""
        wanted = sorted({(int(level), int(number)) for level, number in keys})
        if not wanted:
            return {}
        if self._engine.dialect.name == "postgresql":
            rows = self._read_tiles_postgres(raw, wanted)
        else:
            cursor = raw.cursor()  # type: ignore[union-attr]
            try:
                rows = cursor.execute(self._tiles_sql_sqlite(wanted)).fetchall()
            finally:
                cursor.close()
        return {(level, number): bytes(data) for level, number, data in rows}

    def _tiles_sql_sqlite(self, wanted: list[tiles.TileKey]) -> str:
        """Per level ``number IN``, OR-ed (a row-value IN made SQLite scan the
        whole table). Only integers computed here go into the text, and the
        table name is a validated prefix."""
        by_level: dict[int, list[int]] = {}
        for level, number in wanted:
            by_level.setdefault(level, []).append(number)
        where = " OR ".join(
            f"(level = {level} AND number IN ({','.join(map(str, numbers))}))"
            for level, numbers in by_level.items())
        return (f"SELECT level, number, hashes FROM {self._tables.tiles.name} "
                f"WHERE {where}")

    def _read_tiles_postgres(self, raw: Any, wanted: list[tiles.TileKey]
                             ) -> list[tuple[int, int, bytes]]:
        """The keys as two array parameters joined to the primary key: one text
        for every read (the server plans it each time, see ``audit.proof_reads``;
        this read is rare, an append's after another process appended). Binary
        results: the tiles arrive as bytes, not as hex."""
        sql = (f"SELECT t.level, t.number, t.hashes FROM unnest("
               f"%s::smallint[], %s::bigint[]) AS k(level, number) "
               f"JOIN {self._tables.tiles.name} t "
               f"ON t.level = k.level AND t.number = k.number")
        levels = [level for level, _ in wanted]
        numbers = [number for _, number in wanted]
        with raw.cursor(binary=True) as cursor:
            return cursor.execute(sql, (levels, numbers)).fetchall()

    def record_at(self, index: int) -> Record | None:
        """The stored record at leaf ``index`` (None if pruned or never written)."""
        with self._storage("read the audit log"), self._engine.connect() as conn:
            for record_type in (AuditEntry, AccessRecord):
                table = self._tables.of(record_type)
                row = conn.execute(select(table).where(table.c.idx == index)
                                   ).mappings().first()
                if row is not None:
                    try:
                        return row_record(record_type, row)
                    except InvalidAuditEntry as exc:
                        raise AuditError(f"stored entry {index} is malformed; "
                                         "run verify") from exc
        return None

    # --- retention ----------------------------------------------------------------

    def prune(self, before: datetime, now: datetime) -> int:
        """Delete the records of the longest prefix of the log made before
        ``before``; their leaf and subtree hashes stay, so every checkpoint and every
        proof for what remains still verifies. The pruning is itself appended, as an
        access record, in the same transaction. Returns how many were deleted."""
        if not isinstance(before, datetime) or before.utcoffset() is None:
            raise InvalidAuditQuery("before", "an aware datetime")
        try:
            with self._engine.begin() as conn:
                return self._prune_locked(conn, to_epoch_ms(before), now)
        except AuditError:
            raise
        except Exception as exc:
            raise AuditUnavailable("could not prune the audit log") from exc

    def _prune_locked(self, conn: Connection, before_ms: int, now: datetime) -> int:
        size, _frontier, pruned = self._lock_head(conn.connection.dbapi_connection)
        cutoff = size
        entries, access = self._tables.entries, self._tables.access
        # The records have no time index (an index costs every append a page
        # of its commit): the first to keep is found by walking them in log
        # order from the pruned ones, which stops at it: every record it
        # passes was made before ``before``, due to be pruned.
        firsts = [conn.execute(select(table.c.idx).where(
            table.c.idx >= pruned, table.c[time] >= before_ms)
            .order_by(table.c.idx).limit(1)).scalar()
            for table, time in ((entries, "started_at_ms"),
                                (access, "occurred_at_ms"))]
        for found in firsts:
            if found is not None:
                cutoff = min(cutoff, found)
        if cutoff <= pruned:
            return 0
        deleted = 0
        for table in (self._tables.entries, self._tables.access):
            deleted += conn.execute(delete(table).where(table.c.idx < cutoff)).rowcount
        for table in (self._tables.subjects, self._tables.keys,
                      self._tables.access_keys):  # no records
            conn.execute(delete(table).where(table.c.idx < cutoff))
        head = self._tables.head
        conn.execute(update(head).where(head.c.id == _HEAD_ID).values(pruned=cutoff))
        record = prunes.prune_record(size, cutoff, before_ms, deleted, now,
                                     self._signer)
        self._append_locked(conn.connection.dbapi_connection, [_Waiter([record])])
        return deleted

    @contextmanager
    def _storage(self, action: str) -> Iterator[None]:
        """The one boundary where database errors become audit errors."""
        try:
            yield
        except (SQLAlchemyError, OSError) as exc:
            raise AuditUnavailable(f"could not {action}") from exc


class _Frontiers:
    """The frontiers of the last few heads this process read, by tree size.

    A head once committed stays a tree the log has: the log only grows, and the
    first ``size`` leaves, so the perfect subtrees of that size, never change
    (RFC 9162 2.1.1). Only committed heads are kept: those read under the head's
    lock before an append or a checkpoint writes anything, and those read with a
    proof's tiles; never the head an append is about to commit, which a failed
    commit would leave the log without."""

    _KEEP = 8

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._edges: OrderedDict[int, dict[tuple[int, int], bytes]] = OrderedDict()
        self._last: tuple[int, list[bytes]] | None = None  # remembered last

    def remember(self, size: int, frontier: Sequence[bytes]) -> None:
        with self._lock:
            if self._last == (size, frontier):  # every append reads its head
                return
        levels = merkle.frontier_levels(size)
        if size < 1 or len(frontier) != len(levels):
            return
        edge, start = {}, 0
        for level, node in zip(levels, frontier):
            edge[(level, start >> level)] = node
            start += 1 << level
        with self._lock:
            self._last = (size, list(frontier))
            self._edges[size] = edge
            self._edges.move_to_end(size)
            while len(self._edges) > self._KEEP:
                self._edges.popitem(last=False)

    def edge(self, size: int) -> dict[tuple[int, int], bytes]:
        """The right edge of the tree of ``size`` leaves, as ``(level, position)``
        to hash, if a head of that size was seen; else empty. Not to be changed."""
        with self._lock:
            return self._edges.get(size, {})


def _releases_writer_of(log: MerkleLog) -> Any:
    """An ``engine_disposed`` listener that closes ``log``'s writer; it holds
    the log weakly, so the engine keeps no log alive."""
    ref = weakref.ref(log)

    def release(_engine: Engine) -> None:
        found = ref()
        if found is not None:
            found._release_writer()

    return release


def _on_writer_of(log: MerkleLog) -> Any:
    """``log._on_writer`` for its subjects thread, holding the log weakly (as
    ``_releases_writer_of`` does), so the thread keeps no log alive."""
    ref = weakref.ref(log)

    def on_writer(batch: Callable[[Any], T]) -> T:
        found = ref()
        if found is None:
            raise AuditError("the audit log was closed")
        return found._on_writer(batch)

    return on_writer
