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
process while the previous one committed (group commit).

Checkpoints are C2SP signed notes of (origin, size, root) with a timestamp extension
line, signed with the registry's Ed25519 key; a new one is signed only if it is
consistent with the last one signed (c2sp.org/tlog-checkpoint: "never sign two
inconsistent checkpoints"). Proofs take the few tiles they need from a per-process
cache (``tiles.TileCache``: a stored hash never changes) and read the others in one
query. ``verify`` (audit.verify) trusts no stored hash and no cache.

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
narrower trace index saves a little more, within the noise. Every thread of the
process shares the GIL, so entries per second come close to entries per
CPU-second. The fsync is not the limit: answering a group before its fsync was
tried and gave nothing. Group commit shares a transaction only among the threads
of one process; one appender process per deployment, fed by the API workers with
records they encoded and hashed themselves, would spread that work over the cores
and share every commit. See bench/results/audit.json and the README.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from itertools import chain
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from audit import merkle, migrate, tiles
from audit.entry import AccessRecord, AuditEntry, Record, iso_ms, to_epoch_ms
from audit.errors import (
    AuditAppendFailed,
    AuditError,
    AuditUnavailable,
    CheckpointRefused,
    InvalidAuditEntry,
    InvalidAuditQuery,
    NoSuchEntry,
)
from audit.leaves import leaf_rows
from audit.note import Checkpoint, Signer, Verifier, format_proof
from audit.note import unverified_checkpoint
from audit.tables import AuditTables, audit_tables, copy_types, insert_sql
from audit.tables import row_record
from audit.wal import WalCheckpointer

_HEAD_ID = 1
_HASH_HEX = 64
_GROUP_LIMIT = 5000  # records per group-commit transaction, beyond the first caller's
# Rows per INSERT statement on SQLite: 128 rows of 17 columns are 2,176 parameters,
# well below SQLite's limit of 32,766 (3.32 and later).
_SQLITE_ROWS = 128


class _Waiter:
    """One caller's records, encoded (rows and leaf hashes), waiting to be written.
    Each row starts with its record's offset among ``records``; the leading
    thread turns it into the leaf index when it places the batch (once: a
    waiter is written in one transaction or fails)."""

    def __init__(self, records: list[Record]) -> None:
        self.records = records
        self.entry_rows, self.access_rows, self.leaves = leaf_rows(records)
        self.done = threading.Event()
        self.lead = False
        self.failed: Exception | None = None
        self.indices: list[int] = []

    def outcome(self) -> list[int]:
        if self.failed is not None:
            raise AuditAppendFailed(len(self.records)) from self.failed
        return self.indices


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
                 wal_thread: bool = True) -> None:
        self._engine = engine
        self._tables = audit_tables(prefix)
        self._prefix = prefix
        self._tile_cache = tiles.TileCache(tile_cache_bytes)
        self._wal = (WalCheckpointer(engine)
                     if wal_thread and engine.dialect.name == "sqlite" else None)
        self._signer = signer
        self._queue_lock = threading.Lock()
        self._queue: list[_Waiter] = []
        self._leading = False
        # The partial tiles this process last wrote, with the tree they belong to.
        self._partial: tuple[int, list[bytes], dict[tiles.TileKey, bytes]] | None = None

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
        return self._signer.verifier.name if self._signer else None

    def create_tables(self) -> None:
        """Create or upgrade the tables (``audit.migrate``, keeping every record)
        and the empty head; safe to run again."""
        head = self._tables.head
        with self._storage("create the audit tables"):
            migrate.upgrade(self._engine, self._prefix)
            # Workers starting together may both find no head and both insert it; the
            # loser's IntegrityError means the one empty head exists, which is the goal.
            with suppress(IntegrityError), self._engine.begin() as conn:
                if conn.execute(select(head.c.id)).first() is None:
                    conn.execute(head.insert().values(
                        id=_HEAD_ID, size=0, root_hash=merkle.EMPTY_ROOT.hex(),
                        frontier="", pruned=0))

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
        batch = list(records)
        if not all(isinstance(r, (AuditEntry, AccessRecord)) for r in batch):
            raise InvalidAuditEntry("records", "a sequence of AuditEntry/AccessRecord")
        if not batch:
            return []
        try:
            waiter = _Waiter(batch)  # encoded here, by the caller: errors stay its own
        except Exception as exc:
            raise AuditAppendFailed(len(batch)) from exc
        with self._queue_lock:
            self._queue.append(waiter)
            leading = not self._leading
            self._leading = True
        if not leading:
            waiter.done.wait()
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
            with self._engine.begin() as conn:
                self._append_locked(conn, group)
        except Exception as exc:  # anything at all: those requests must fail (inv. 4)
            for waiter in group:
                waiter.failed = exc
        else:
            if self._wal is not None:
                self._wal.nudge()
        for waiter in group[1:]:
            waiter.done.set()
        with self._queue_lock:
            if self._queue:
                self._queue[0].lead = True
                self._queue[0].done.set()
            else:
                self._leading = False

    def _append_locked(self, conn: Connection, group: list[_Waiter]) -> None:
        start, frontier, _pruned = self._lock_head(conn)
        before = list(frontier)
        size = start
        entries: list[list[Any]] = []
        access: list[list[Any]] = []
        leaves: list[bytes] = []
        for waiter in group:
            for rows, placed in ((waiter.entry_rows, entries),
                                 (waiter.access_rows, access)):
                for row in rows:
                    row[0] += size
                placed += rows
            leaves += waiter.leaves
            waiter.indices = list(range(size, size + len(waiter.leaves)))
            size += len(waiter.leaves)
        size, grown = merkle.grow(frontier, start, leaves)
        partial = self._partial_tiles(conn, start, before)
        try:
            changed = tiles.grown_tiles(start, grown, partial)
        except ValueError as exc:
            raise AuditError("the stored tiles do not match the audit head; "
                             "run verify") from exc
        kept = {key: changed.get(key) or partial.get(key)
                for key in tiles.partial_tiles(size)}
        self._partial = (size, list(frontier), kept) if all(kept.values()) else None
        for table, rows in ((self._tables.entries, entries),
                            (self._tables.access, access)):
            if rows:
                self._insert_rows(conn, table, rows)
        conn.exec_driver_sql(self._upsert_tiles_sql(conn.dialect.paramstyle),
                             [(lv, n, data) for (lv, n), data in changed.items()])
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        conn.exec_driver_sql(
            f"UPDATE {self._tables.head.name} SET size = {mark}, root_hash = {mark}, "
            f"frontier = {mark} WHERE id = {_HEAD_ID}",
            (size, merkle.root_from_frontier(frontier).hex(),
             "".join(h.hex() for h in frontier)))

    def _partial_tiles(self, conn: Connection, size: int, frontier: list[bytes]
                       ) -> dict[tiles.TileKey, bytes]:
        """The stored partial tiles of the tree of ``size`` leaves: those this
        process wrote last if that tree is still the head (the same size and
        frontier: the frontier's hashes commit to every leaf, RFC 9162 2.1.1, so
        no other tree has it), else read. An append by another process, or one
        that failed, changes the head, and the tiles are read again."""
        kept = self._partial
        if kept is not None and kept[0] == size and kept[1] == frontier:
            return kept[2]
        return self._read_tiles(conn, tiles.partial_tiles(size))

    def _insert_rows(self, conn: Connection, table: Any,
                     rows: list[list[Any]]) -> None:
        """Positional rows (lists, as ``leaf_rows`` makes them) straight to the
        driver, on the transaction's connection: binary ``COPY`` on PostgreSQL
        (the server takes each value as it is stored, parsing no text), on
        SQLite ``INSERT``s of ``_SQLITE_ROWS`` rows each and the driver's
        executemany for the rest. SQLAlchemy's per-row parameter processing cost
        as much as the insert itself; a statement per row costs a reset, a step
        and a release of the GIL per row (README, audit log benchmark)."""
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if conn.dialect.name == "postgresql":
                names = ", ".join(c.name for c in table.columns)
                with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN "
                                 "(FORMAT BINARY)") as copy:
                    copy.set_types(copy_types(table))
                    for row in rows:
                        copy.write_row(row)
                return
            full = len(rows) - len(rows) % _SQLITE_ROWS
            if full:
                sql = insert_sql(table, "qmark", _SQLITE_ROWS)
                width = _SQLITE_ROWS * len(table.columns)
                values = list(chain.from_iterable(rows[:full]))
                for start in range(0, len(values), width):
                    cursor.execute(sql, values[start:start + width])
            if full < len(rows):
                cursor.executemany(insert_sql(table, "qmark"), rows[full:])
        finally:
            cursor.close()

    def _upsert_tiles_sql(self, paramstyle: str) -> str:
        # Only the partial tile of a level is ever rewritten; full ones are new rows.
        mark = "?" if paramstyle == "qmark" else "%s"
        return (f"INSERT INTO {self._tables.tiles.name} (level, number, hashes) "
                f"VALUES ({mark}, {mark}, {mark}) ON CONFLICT (level, number) "
                "DO UPDATE SET hashes = excluded.hashes")

    def _lock_head(self, conn: Connection) -> tuple[int, list[bytes], int]:
        # The first statement writes the head row: on PostgreSQL that takes the row
        # lock, on SQLite the RESERVED (write) lock, so concurrent appenders queue
        # here and each reads the head only after the previous one committed.
        # Written out rather than built with SQLAlchemy: building and caching the
        # statement cost more than running it, on every transaction.
        row = conn.exec_driver_sql(
            f"UPDATE {self._tables.head.name} SET size = size WHERE id = {_HEAD_ID} "
            "RETURNING size, frontier, pruned").one()  # no head: the append fails
        size, text, pruned = row
        frontier = [bytes.fromhex(text[i:i + _HASH_HEX])
                    for i in range(0, len(text), _HASH_HEX)]
        if len(frontier) != len(merkle.frontier_levels(size)):
            raise AuditError("the audit head's frontier does not match its size")
        return size, frontier, pruned

    # --- the head, checkpoints and proofs -----------------------------------------

    def head(self) -> Head:
        with self._storage("read the audit head"), self._engine.connect() as conn:
            return self._read_head(conn)

    def _read_head(self, conn: Connection) -> Head:
        head = self._tables.head
        row = conn.execute(select(head.c.size, head.c.root_hash, head.c.pruned)).first()
        if row is None:
            raise AuditError("the audit log has no head row (run create_tables)")
        return Head(row.size, row.root_hash, row.pruned)

    def checkpoint(self, now: datetime) -> str:
        """The signed checkpoint of the current head: the stored one if the tree has
        not grown since, else a new one, signed only after a consistency proof from
        the last signed checkpoint verified against the stored hashes."""
        if self._signer is None:
            raise AuditError("this audit log has no signing key")
        table = self._tables.checkpoints
        with self._storage("sign a checkpoint"), self._engine.begin() as conn:
            size, frontier, _ = self._lock_head(conn)
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
            text = Checkpoint(self._signer.verifier.name, size, root).text()
            note = self._signer.sign(text + f"timestamp {iso_ms(now)}\n")
            conn.execute(table.insert().values(
                size=size, root_hash=root.hex(), note=note,
                signed_at_ms=to_epoch_ms(now)))
            return note

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
            get = self._nodes(merkle.inclusion_nodes(index, size), size)
            return Proof(index, size, merkle.inclusion_proof(index, size, get))

    def inclusions(self, indices: Sequence[int], size: int) -> dict[int, Proof]:
        """Inclusion proofs of several leaves in one read of the stored hashes."""
        needed: set[tuple[int, int]] = set()
        for index in indices:
            needed |= merkle.inclusion_nodes(index, size)
        with self._storage("read inclusion proofs"):
            get = self._nodes(needed, size)
        return {i: Proof(i, size, merkle.inclusion_proof(i, size, get))
                for i in indices}

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

    def _refuse_size(self, beyond: int = 0) -> None:
        """Refuse a tree size that is not one the head has reached (an integer from
        1 to the head's size); with ``beyond``, only if that size is past the head.
        Read on the way to an error only: a proof that succeeds needs no head."""
        current = self.head().size
        if not 0 < beyond <= current:
            raise InvalidAuditQuery("size", f"an integer from 1 to {current}")

    def _proof_reader(self) -> Connection:
        """A connection for proofs. On PostgreSQL in autocommit: no BEGIN before
        and no ROLLBACK after, two round trips of three; on SQLite the tiles are
        read by one statement outside any transaction (``_read_tiles``). The reads
        need no shared snapshot: a hash, once stored, never changes
        (``tiles.TileCache``)."""
        conn = self._engine.connect()
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT")
        return conn

    def _nodes(self, needed: set[tuple[int, int]], size: int,
               conn: Connection | None = None) -> merkle.NodeSource:
        """The subtree hashes a proof within the tree of ``size`` leaves needs,
        from the tiles that hold them: from the tile cache where it holds enough
        of a tile, the others read in one query (and cached). A proof whose tiles
        are all cached touches no database at all.

        The size needs no read of the head: the last leaf's hash is stored only
        once the tree has reached ``size`` (tiles and head are written in one
        transaction), so it is asked for too, and if any hash is missing the head
        says whether the size was beyond it (a caller's mistake) or the store
        lost hashes (run verify)."""
        needed = {*needed, (0, size - 1)}
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
                with self._proof_reader() as reader:
                    raw = self._read_tiles(reader, missing)
            else:
                raw = self._read_tiles(conn, missing)
            for key, data in raw.items():
                found[key] = self._tile_cache.add(key, data)
        source = tiles.TileSource(found)
        try:
            for level, position in needed:
                source(level, position)
        except KeyError:
            self._refuse_size(beyond=size)
            raise AuditError("the audit log is missing stored hashes; run verify"
                             ) from None
        return source

    def _read_tiles(self, conn: Connection, keys: Iterable[tiles.TileKey]
                    ) -> dict[tiles.TileKey, bytes]:
        """Tiles by ``(level, number)`` in one query, answered from the primary key,
        through the driver's own cursor: SQLAlchemy's statement handling and
        result wrapping cost more than the query."""
        wanted = sorted({(int(level), int(number)) for level, number in keys})
        if not wanted:
            return {}
        raw = conn.connection.dbapi_connection
        if conn.dialect.name == "postgresql":
            rows = self._read_tiles_postgres(raw, wanted)
        else:
            # Outside a transaction the SELECT is its own snapshot, which is all
            # a proof needs (``_proof_reader``); inside an append it reads the
            # append's own.
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
        for every read, which psycopg prepares on the connection after a few
        uses (``prepare_threshold``), so the server stops parsing and planning
        it per proof. Binary results: the tiles arrive as bytes, not as hex."""
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
        size, _frontier, pruned = self._lock_head(conn)
        cutoff = size
        for table, column in ((self._tables.entries, "started_at_ms"),
                              (self._tables.access, "occurred_at_ms")):
            kept = conn.execute(select(func.min(table.c.idx)).where(
                table.c[column] >= before_ms)).scalar()
            if kept is not None:
                cutoff = min(cutoff, kept)
        if cutoff <= pruned:
            return 0
        deleted = 0
        for table in (self._tables.entries, self._tables.access):
            deleted += conn.execute(delete(table).where(table.c.idx < cutoff)).rowcount
        head = self._tables.head
        conn.execute(update(head).where(head.c.id == _HEAD_ID).values(pruned=cutoff))
        self._append_locked(conn, [_Waiter([_prune_record(cutoff, deleted, now)])])
        return deleted

    @contextmanager
    def _storage(self, action: str) -> Iterator[None]:
        """The one boundary where database errors become audit errors."""
        try:
            yield
        except (SQLAlchemyError, OSError) as exc:
            raise AuditUnavailable(f"could not {action}") from exc


def _prune_record(cutoff: int, deleted: int, now: datetime) -> AccessRecord:
    return AccessRecord(
        trace_id=secrets.token_hex(16), span_id=secrets.token_hex(8), occurred_at=now,
        actor="system:retention", organisation="platform", role="system",
        action="prune", target=f"records before index {cutoff}", result="pruned",
        origin="system", subjects=deleted,
        reason="retention period of the audit log passed")
