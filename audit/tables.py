"""Table definitions of the audit log and the mapping between entries and rows.

SQLAlchemy Core rather than SQLModel classes: the table names take a prefix (tests and
benchmarks on a shared PostgreSQL database each use their own), and SQLModel binds a
class to one fixed table name. Writes go through Core ``executemany`` anyway.

Time is stored as integer milliseconds since the epoch: exact, comparable, and the
same on SQLite and PostgreSQL, so ``verify`` recomputes exactly the bytes that were
hashed (a timestamp type would round-trip through each driver's own conversions).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from audit.entry import AuditEntry, from_epoch_ms, to_epoch_ms
from audit.errors import AuditError, InvalidAuditEntry

# INTEGER PRIMARY KEY makes seq SQLite's rowid (no second index); BIGINT elsewhere.
_SEQ = BigInteger().with_variant(Integer(), "sqlite")
_TEXT_COLUMNS = (
    "trace_id", "span_id", "processing_activity", "actor", "organisation",
    "purpose", "subject", "outcome", "reason",
)  # fmt: skip
ENTRY_COLUMNS = (*_TEXT_COLUMNS, "occurred_at_ms", "fields", "grants")


@dataclass(frozen=True)
class AuditTables:
    metadata: MetaData
    entries: Table
    head: Table


def audit_tables(prefix: str = "audit") -> AuditTables:
    """``<prefix>_entries`` (one row per entry) and ``<prefix>_head`` (one row)."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,29}", prefix):
        raise AuditError(
            "table prefix must be a lowercase SQL identifier of at most 30 characters"
        )
    metadata = MetaData()
    return AuditTables(metadata, _entries(metadata, prefix), _head(metadata, prefix))


def _entries(metadata: MetaData, prefix: str) -> Table:
    name = f"{prefix}_entries"
    return Table(
        name,
        metadata,
        Column("seq", _SEQ, primary_key=True, autoincrement=False),
        Column("trace_id", String(32), nullable=False),
        Column("span_id", String(16), nullable=False),
        Column("occurred_at_ms", BigInteger, nullable=False),
        Column("processing_activity", Text, nullable=False),
        Column("actor", Text, nullable=False),
        Column("organisation", Text, nullable=False),
        Column("purpose", Text, nullable=False),
        Column("subject", Text, nullable=False),
        Column("fields", Text, nullable=False),
        Column("grants", Text, nullable=False),
        Column("outcome", String(16), nullable=False),
        Column("reason", Text, nullable=False),
        Column("entry_hash", String(64), nullable=False),
        # The DPO's and the holder's questions (DESIGN.md flow 6, LDV read API).
        Index(f"ix_{name}_org_time", "organisation", "occurred_at_ms"),
        Index(f"ix_{name}_subject_time", "subject", "occurred_at_ms"),
        Index(f"ix_{name}_trace", "trace_id"),
    )


def _head(metadata: MetaData, prefix: str) -> Table:
    return Table(
        f"{prefix}_head",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("size", BigInteger, nullable=False),
        Column("head_hash", String(64), nullable=False),
        CheckConstraint("id = 1", name=f"ck_{prefix}_head_one_row"),
    )


def entry_row(entry: AuditEntry) -> dict[str, Any]:
    """The stored form of an entry's columns (without ``seq`` and ``entry_hash``)."""
    row: dict[str, Any] = {name: getattr(entry, name) for name in _TEXT_COLUMNS}
    row["occurred_at_ms"] = to_epoch_ms(entry.occurred_at)
    row["fields"] = _json_list(entry.fields)
    row["grants"] = _json_list(entry.grants)
    return row


def row_entry(row: Mapping[str, Any]) -> AuditEntry:
    """Rebuild an entry from a stored row, refusing any non-canonical encoding: a row
    that would not be written this way was not written by ``append``."""
    try:
        entry = AuditEntry(
            **{name: row[name] for name in _TEXT_COLUMNS},
            occurred_at=from_epoch_ms(_strict_int(row["occurred_at_ms"])),
            fields=_parse_list("fields", row["fields"]),
            grants=_parse_list("grants", row["grants"]),
        )
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidAuditEntry("stored row", f"decodable ({exc})") from exc
    if entry_row(entry) != {name: row[name] for name in ENTRY_COLUMNS}:
        raise InvalidAuditEntry("stored row", "in the canonical form append writes")
    return entry


def _json_list(values: tuple[str, ...]) -> str:
    return json.dumps(list(values), separators=(",", ":"), ensure_ascii=False)


def _parse_list(name: str, text: object) -> tuple[str, ...]:
    value = json.loads(text) if isinstance(text, str) else None
    if not isinstance(value, list):
        raise InvalidAuditEntry(name, "a JSON array of strings")
    return tuple(value)  # AuditEntry checks that the items are strings


def _strict_int(value: object) -> int:
    if type(value) is not int:
        raise InvalidAuditEntry("occurred_at_ms", "an integer")
    return value
