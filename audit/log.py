"""The append-only, hash-chained audit log (DESIGN.md invariants 4 and 7).

Chain (v1)::

    h_0 = 32 zero bytes
    h_n = SHA-256(b"vg-audit-v1\\x00" + h_{n-1} + SHA-256(canonical_bytes(entry_n)))

Row ``n`` stores ``seq = n``, the entry's columns and ``entry_hash = hex(h_n)``; the
one-row head table stores ``(size, hex(h_size))``. Anyone can recompute the chain, so
on its own it only catches careless edits; a rewrite of the whole tail with fresh
hashes is caught by comparing with a head saved (later: signed) earlier, which is what
invariant 7 promises. The public surface (entries, records, ``Head``,
``VerifyReport``) says nothing about chains, so a Merkle log (RFC 9162) can replace
this one behind it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, Engine, Table, func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from audit.entry import OUTCOMES, AuditEntry, to_epoch_ms
from audit.errors import (
    AuditAppendFailed,
    AuditError,
    AuditUnavailable,
    InvalidAuditEntry,
    InvalidAuditQuery,
)
from audit.tables import audit_tables, entry_row, row_entry

ZERO_HASH = bytes(32)
_DOMAIN = b"vg-audit-v1\x00"
_HEAD_ID = 1
_FILTERS = (
    "organisation", "subject", "purpose", "processing_activity", "trace_id",
    "outcome", "since", "until",
)  # fmt: skip
_MAX_LIMIT = 1000


def chain_hash(previous: bytes, entry: AuditEntry) -> bytes:
    leaf = hashlib.sha256(entry.canonical_bytes()).digest()
    return hashlib.sha256(_DOMAIN + previous + leaf).digest()


class Head(NamedTuple):
    """Size and head hash (hex) of the log: save one to detect a later rollback."""

    size: int
    head_hash: str


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    entry: AuditEntry
    entry_hash: str  # hex; commits to this entry and to everything before it


@dataclass(frozen=True)
class VerifyReport:
    """``size``/``head_hash``: the longest prefix that verified (all of it if ok)."""

    ok: bool
    size: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None


class AuditLog:
    """The log in the tables ``<prefix>_entries`` and ``<prefix>_head`` of ``engine``.

    Safe to share between threads, and to open from several processes at once.
    For SQLite, use an engine from ``make_engine``: its transactions are what makes
    ``verify`` see one consistent snapshot while others append.
    """

    def __init__(self, engine: Engine, *, prefix: str = "audit") -> None:
        self._engine = engine
        self._tables = audit_tables(prefix)

    def create_tables(self) -> None:
        """Create the tables and the empty head; safe to run again. Run it once at
        deployment: two processes creating the tables at the same moment can race
        on CREATE TABLE (the head row itself is race-safe)."""
        head = self._tables.head
        with self._storage("create the audit tables"):
            self._tables.metadata.create_all(self._engine)
            try:
                with self._engine.begin() as conn:
                    if conn.execute(select(head.c.id)).first() is None:
                        conn.execute(head.insert().values(**_empty_head()))
            except IntegrityError:
                pass  # another process inserted the head between our check and insert

    def append(self, entries: Sequence[AuditEntry]) -> list[int]:
        """Append in one committed transaction and return the sequence numbers.

        Invariant 4 (fail closed): whatever goes wrong, the caller gets
        ``AuditAppendFailed`` and the transaction is rolled back. If the connection
        drops during COMMIT the entries may still be in the log; that errs on the
        side of logging an answer that was never sent, never the reverse.
        """
        batch = list(entries)
        if not all(isinstance(entry, AuditEntry) for entry in batch):
            raise InvalidAuditEntry("entries", "a sequence of AuditEntry")
        if not batch:
            return []
        try:
            with self._engine.begin() as conn:
                return self._append_locked(conn, batch)
        except Exception as exc:  # anything at all: the request must fail (inv. 4)
            raise AuditAppendFailed(len(batch)) from exc

    def entries(
        self,
        *,
        organisation: str | None = None,
        subject: str | None = None,
        purpose: str | None = None,
        processing_activity: str | None = None,
        trace_id: str | None = None,
        outcome: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[AuditRecord]:
        """Matching records in ``seq`` order; ``since`` inclusive, ``until`` not."""
        filters = {k: v for k, v in locals().items() if k in _FILTERS}  # not paging
        table = self._tables.entries
        stmt = select(table).where(*_where(table, filters)).order_by(table.c.seq)
        stmt = stmt.limit(_limit(limit)).offset(_offset(offset))
        with self._storage("read the audit log"), self._engine.connect() as conn:
            rows = conn.execute(stmt).mappings().all()
        return [_record(row) for row in rows]

    def count(self, **filters: Any) -> int:
        """How many entries match the filters of ``entries`` (no limit or offset)."""
        table = self._tables.entries
        stmt = select(func.count()).select_from(table).where(*_where(table, filters))
        with self._storage("read the audit log"), self._engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def head(self) -> Head:
        with self._storage("read the audit head"), self._engine.connect() as conn:
            return self._read_head(conn)

    def verify(self, expected_head: tuple[int, str] | None = None) -> VerifyReport:
        """Recompute the chain from the stored columns, trusting no stored hash.

        ``expected_head`` is a ``Head`` saved earlier: the log must still contain
        exactly those first ``size`` entries (no rollback, no rewrite).
        """
        expected = _checked_head(expected_head)
        with self._storage("verify the audit log"), self._snapshot() as conn:
            walk = _Walk(expected.size if expected else 0)
            table = self._tables.entries
            stmt = select(table).order_by(table.c.seq)
            rows = conn.execute(stmt.execution_options(yield_per=2000))  # streamed
            for row in rows.mappings():
                if (problem := walk.feed(row)) is not None:
                    return walk.report(walk.size + 1, problem)
            stored = self._read_head(conn)
        return walk.finish(stored, expected)

    def _append_locked(self, conn: Connection, batch: list[AuditEntry]) -> list[int]:
        size, previous = self._lock_head(conn)
        rows = []
        for seq, entry in enumerate(batch, start=size + 1):
            previous = chain_hash(previous, entry)
            rows.append({"seq": seq, **entry_row(entry), "entry_hash": previous.hex()})
        conn.execute(self._tables.entries.insert(), rows)  # executemany, Core
        new_size = size + len(batch)
        head = self._tables.head
        conn.execute(
            update(head)
            .where(head.c.id == _HEAD_ID)
            .values(size=new_size, head_hash=previous.hex())
        )
        return list(range(size + 1, new_size + 1))

    def _lock_head(self, conn: Connection) -> tuple[int, bytes]:
        # The first statement writes the head row: on PostgreSQL that takes the row
        # lock, on SQLite the RESERVED (write) lock, so concurrent appenders queue
        # here and each reads the head only after the previous one committed. A read
        # first would let two of them chain onto the same head (SQLite would even
        # fail the later write with SQLITE_BUSY instead of waiting).
        head = self._tables.head
        stmt = (
            update(head)
            .where(head.c.id == _HEAD_ID)
            .values(size=head.c.size)
            .returning(head.c.size, head.c.head_hash)
        )
        row = conn.execute(stmt).one()  # no head row: NoResultFound, append fails
        return row.size, bytes.fromhex(row.head_hash)

    def _read_head(self, conn: Connection) -> Head:
        head = self._tables.head
        row = conn.execute(select(head.c.size, head.c.head_hash)).first()
        if row is None:
            raise AuditError("the audit log has no head row (run create_tables)")
        return Head(row.size, row.head_hash)

    @contextmanager
    def _snapshot(self) -> Iterator[Connection]:
        """One consistent snapshot for all reads of ``verify``: otherwise an append
        between reading the entries and the head looks like tampering."""
        options: dict[str, Any] = {}
        if self._engine.dialect.name == "postgresql":
            options = {"isolation_level": "REPEATABLE READ"}
        # SQLite: make_engine's BEGIN already gives a snapshot (WAL read transaction).
        with (
            self._engine.connect().execution_options(**options) as conn,
            conn.begin(),
        ):
            yield conn

    @contextmanager
    def _storage(self, action: str) -> Iterator[None]:
        """The one boundary where database errors become audit errors."""
        try:
            yield
        except (SQLAlchemyError, OSError) as exc:
            raise AuditUnavailable(f"could not {action}") from exc


class _Walk:
    """Recomputes the chain row by row and remembers the hash at the checkpoint."""

    def __init__(self, checkpoint_size: int) -> None:
        self.size, self.hash = 0, ZERO_HASH
        self._checkpoint_size = checkpoint_size
        self.at_checkpoint = ZERO_HASH if checkpoint_size == 0 else None

    def feed(self, row: Any) -> str | None:
        seq = self.size + 1
        if row["seq"] != seq:
            return f"entry {seq} is missing (the next stored entry is {row['seq']})"
        try:
            entry = row_entry(row)
        except InvalidAuditEntry as exc:
            return f"entry {seq} is malformed: {exc}"
        digest = chain_hash(self.hash, entry)
        if digest.hex() != row["entry_hash"]:
            return f"entry {seq} does not match its hash (changed, inserted or moved)"
        self.size, self.hash = seq, digest
        if seq == self._checkpoint_size:
            self.at_checkpoint = digest
        return None

    def report(self, first_bad_seq: int | None, problem: str) -> VerifyReport:
        return VerifyReport(False, self.size, self.hash.hex(), first_bad_seq, problem)

    def finish(self, stored: Head, expected: Head | None) -> VerifyReport:
        if stored.size != self.size:
            problem = f"the head says {stored.size} entries, the log holds {self.size}"
            return self.report(min(stored.size, self.size) + 1, problem)
        if stored.head_hash != self.hash.hex():
            return self.report(None, "the head hash does not match the entries")
        if expected is not None and self.size < expected.size:
            problem = f"{expected.size - self.size} entries after {self.size} are gone"
            return self.report(self.size + 1, problem + " (rolled back)")
        if expected is not None and self.at_checkpoint != bytes.fromhex(
            expected.head_hash
        ):
            problem = f"the first {expected.size} entries differ from the expected head"
            return self.report(None, problem + " (rewritten)")
        return VerifyReport(True, self.size, self.hash.hex())


def _record(row: Any) -> AuditRecord:
    try:
        entry = row_entry(row)
    except InvalidAuditEntry as exc:
        raise AuditError(f"stored entry {row['seq']} is malformed; run verify") from exc
    return AuditRecord(row["seq"], entry, row["entry_hash"])


def _empty_head() -> dict[str, Any]:
    return {"id": _HEAD_ID, "size": 0, "head_hash": ZERO_HASH.hex()}


def _checked_head(head: tuple[int, str] | None) -> Head | None:
    if head is None:
        return None
    must = "a (size, head_hash) pair saved from head()"
    if not isinstance(head, tuple) or len(head) != 2:
        raise InvalidAuditQuery("expected_head", must)
    size, head_hash = head
    if type(size) is not int or size < 0 or not _is_hash_hex(head_hash):
        raise InvalidAuditQuery("expected_head", must)
    return Head(size, head_hash)


def _is_hash_hex(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch("[0-9a-f]{64}", value) is not None


def _where(table: Table, filters: dict[str, Any]) -> list[ColumnElement[bool]]:
    """Validate the filters (precise 400s) and turn them into conditions."""
    conditions = []
    for name, value in filters.items():
        if value is None:
            continue
        if name not in _FILTERS:
            raise InvalidAuditQuery(name, "one of " + ", ".join(_FILTERS))
        if name in ("since", "until"):
            conditions.append(_time_condition(table, name, value))
        else:
            conditions.append(table.c[name] == _filter_text(name, value))
    return conditions


def _filter_text(name: str, value: object) -> str:
    if name == "outcome" and value not in OUTCOMES:
        raise InvalidAuditQuery(name, "one of " + ", ".join(OUTCOMES))
    if not isinstance(value, str) or not value:
        raise InvalidAuditQuery(name, "a non-empty string")
    return value


def _time_condition(table: Table, name: str, value: object) -> ColumnElement[bool]:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidAuditQuery(name, "an aware datetime")
    column = table.c.occurred_at_ms
    # Entries are stored at millisecond precision: round the bounds up to the next
    # millisecond so that [since, until) keeps its meaning for sub-ms bounds.
    ms = to_epoch_ms(value, round_up=True)
    return column >= ms if name == "since" else column < ms


def _limit(value: object) -> int:
    if type(value) is not int or not 1 <= value <= _MAX_LIMIT:
        raise InvalidAuditQuery("limit", f"an integer from 1 to {_MAX_LIMIT}")
    return value


def _offset(value: object) -> int:
    if type(value) is not int or value < 0:
        raise InvalidAuditQuery("offset", "an integer >= 0")
    return value
