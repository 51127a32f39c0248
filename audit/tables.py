"""Table definitions of the audit log and the mapping between records and rows.

* ``<prefix>_entries``: LDV processing records, one row per leaf (``idx``);
* ``<prefix>_access``: BIO access records, one row per leaf (``idx``);
* ``<prefix>_subjects``: the entries by data subject and time (``idx`` of each),
  ``<prefix>_entry_keys``: each entry's organisation, time, trace and parent
  span, and
  ``<prefix>_access_keys``: each access record's trace, span, actor and time,
  with an index for each question asked of them; all written behind the log in
  batches (``audit.subject_index``) up to the leaf ``<prefix>_subjects_mark``
  names; the records after it are found by a scan of the log's short tail;
* ``<prefix>_tiles``: the Merkle tree's hashes as c2sp.org/tlog-tiles tiles
  (``audit.tiles``): 256 hashes of every eighth tree level per row, and for a
  full tile the node hashes of the seven levels above them; full tiles
  immutable, so a proof reads a handful of rows in one query;
* ``<prefix>_head``: one row: size, root, the frontier (the perfect-subtree hashes
  an append extends) and how many leading leaves retention has pruned;
* ``<prefix>_checkpoints``: every signed checkpoint, by tree size;
* ``<prefix>_schema_version``: the Alembic revision of these tables
  (``audit.migrate``).

SQLAlchemy Core rather than SQLModel classes: the table names take a prefix (tests and
benchmarks on a shared PostgreSQL database each use their own). Time is stored as
integer milliseconds since the epoch: exact, and the same on SQLite and PostgreSQL, so
``verify`` recomputes exactly the bytes that were hashed.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from json.encoder import encode_basestring as _json_string
from operator import attrgetter
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
)

from audit.entry import (
    COMPACT_JSON,
    SPECS,
    AccessRecord,
    AuditEntry,
    Record,
    from_epoch_ms,
    iso_ms,
    to_epoch_ms,
)
from audit.errors import AuditError, InvalidAuditEntry
from audit.tiles import NODES_BYTES, TILE_BYTES

_CANONICAL_ORDER = {t: sorted([*spec, "kind"]) for t, spec in SPECS.items()}
_COLUMN_NAMES = {t: tuple(f"{name}_ms" if kind == "time" else name
                          for name, kind in spec.items())
                 for t, spec in SPECS.items()}
# INTEGER PRIMARY KEY makes idx SQLite's rowid (no second index); BIGINT elsewhere.
_IDX = BigInteger().with_variant(Integer(), "sqlite")


@dataclass(frozen=True)
class AuditTables:
    metadata: MetaData
    entries: Table
    access: Table
    subjects: Table
    subjects_mark: Table
    keys: Table
    access_keys: Table
    tiles: Table
    head: Table
    checkpoints: Table
    version: Table

    def of(self, record_type: type) -> Table:
        return self.entries if record_type is AuditEntry else self.access


def audit_tables(prefix: str = "audit") -> AuditTables:
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,29}", prefix):
        raise AuditError(
            "table prefix must be a lowercase SQL identifier of at most 30 characters"
        )
    metadata = MetaData()
    return AuditTables(
        metadata,
        _record_table(metadata, f"{prefix}_entries", AuditEntry),
        _record_table(metadata, f"{prefix}_access", AccessRecord),
        *_subjects(metadata, prefix),
        _keys(metadata, prefix),
        _access_keys(metadata, prefix),
        _tiles(metadata, prefix),
        _head(metadata, prefix),
        _checkpoints(metadata, prefix),
        _version(metadata, prefix),
    )


def _column(name: str, kind: Any) -> Column:
    if kind == "time":
        return Column(f"{name}_ms", BigInteger, nullable=False)
    if kind == "count":
        return Column(name, Integer, nullable=False)
    if isinstance(kind, tuple) and kind[0] in ("hex", "ohex"):
        return Column(name, String(kind[1]), nullable=kind[0] == "ohex")
    return Column(name, Text, nullable=False)


def _record_table(metadata: MetaData, name: str, record_type: type) -> Table:
    spec = SPECS[record_type]
    columns = [_column(field, kind) for field, kind in spec.items()]
    # No index: each costs every append a B-tree insert per record and a page
    # in the commit its answer waits for (invariant 4). What the DPO and the
    # holder ask of the records (DESIGN.md flow 6, LDV read API) is in tables
    # written behind the log: the entries' keys (``_keys``, ``_subjects``) and
    # the access records' (``_access_keys``). Retention finds the first record
    # to keep by walking the log in order from the pruned ones
    # (``MerkleLog.prune``).
    return Table(name, metadata, Column("idx", _IDX, primary_key=True,
                                        autoincrement=False), *columns)


def _subjects(metadata: MetaData, prefix: str) -> tuple[Table, Table]:
    """The holder's question (whose entries, when) as a table ordered by subject
    and time rather than an index of the entries: an index takes a B-tree page
    per subject into every append's commit (ten of a page's twenty-odd WAL
    pages), this table is written in batches behind the log, where a subject
    seen again shares its page (``audit.subject_index``). The mark row says how
    far: every entry before ``upto`` is here; the ones after are searched in
    the log itself (``audit.queries``). Clustered on its key (no rowid) on
    SQLite, so the table is the index."""
    subjects = Table(
        f"{prefix}_subjects",
        metadata,
        Column("subject", Text, primary_key=True),
        Column("started_at_ms", BigInteger, primary_key=True, autoincrement=False),
        Column("idx", BigInteger, primary_key=True, autoincrement=False),
        sqlite_with_rowid=False,
    )
    mark = Table(
        f"{prefix}_subjects_mark",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("upto", BigInteger, nullable=False),
        CheckConstraint("id = 1", name=f"ck_{prefix}_subjects_mark_one_row"),
    )
    return subjects, mark


def _keys(metadata: MetaData, prefix: str) -> Table:
    """What the DPO asks of the entries (by organisation and period, by period,
    by trace, and by requester through the access record each entry's trace and
    parent span name) as a table of each entry's ``idx`` with those columns and
    an index for each question.
    On the entries themselves the three indexes put some seven B-tree pages
    into every append's commit (a random one for the trace); written here, in
    batches behind the log with the subjects table and under the same mark, no
    answer waits for them, and the entries after the mark are searched in the
    log itself (``audit.queries``)."""
    name = f"{prefix}_entry_keys"
    return Table(
        name,
        metadata,
        Column("idx", _IDX, primary_key=True, autoincrement=False),
        Column("organisation", Text, nullable=False),
        Column("started_at_ms", BigInteger, nullable=False),
        Column("trace_id", String(32), nullable=False),
        # The access record's span (``AuditEntry.parent_span_id``): a
        # requester's entries are found from their access records' keys
        # through the trace index alone, without reading an entry that is not
        # theirs (``audit.queries``).
        Column("parent_span_id", String(16), nullable=True),
        Index(f"ix_{name}_org_time", "organisation", "started_at_ms"),
        Index(f"ix_{name}_time", "started_at_ms"),
        Index(f"ix_{name}_trace", "trace_id", "parent_span_id"),
    )


def _access_keys(metadata: MetaData, prefix: str) -> Table:
    """What is asked of the access records (the entries' join on trace and
    span, and the DPO's filter by requester) as a table of each record's
    ``idx`` with those columns and an index for each question. On the access
    records themselves the two indexes put some two and a half B-tree pages
    into every append's commit (the trace's at a random place); written here,
    in the batches behind the log under the subjects' mark, no answer waits
    for them, and the records after the mark are searched in the log itself
    (``audit.queries``)."""
    name = f"{prefix}_access_keys"
    return Table(
        name,
        metadata,
        Column("idx", _IDX, primary_key=True, autoincrement=False),
        Column("trace_id", String(32), nullable=False),
        Column("span_id", String(16), nullable=False),
        Column("actor", Text, nullable=False),
        Column("occurred_at_ms", BigInteger, nullable=False),
        Index(f"ix_{name}_trace", "trace_id", "span_id"),
        # The trace and span too: a requester's records are read from the
        # index alone (``audit.queries``), thousands for a busy key.
        Index(f"ix_{name}_actor_time", "actor", "occurred_at_ms", "trace_id",
              "span_id"),
    )


def _tiles(metadata: MetaData, prefix: str) -> Table:
    return Table(
        f"{prefix}_tiles",
        metadata,
        Column("level", SmallInteger, primary_key=True, autoincrement=False),
        Column("number", BigInteger, primary_key=True, autoincrement=False),
        Column("hashes", LargeBinary(TILE_BYTES), nullable=False),
        # A full tile's node hashes (``tiles.inner_nodes``); NULL while partial.
        Column("nodes", LargeBinary(NODES_BYTES), nullable=True),
    )


def _version(metadata: MetaData, prefix: str) -> Table:
    """Alembic's version table, declared so that ``drop_all`` removes it too."""
    return Table(
        f"{prefix}_schema_version",
        metadata,
        Column("version_num", String(32), primary_key=True),
    )


def _head(metadata: MetaData, prefix: str) -> Table:
    return Table(
        f"{prefix}_head",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("size", BigInteger, nullable=False),
        Column("root_hash", String(64), nullable=False),
        Column("frontier", Text, nullable=False),  # hex, 64 characters per hash
        Column("pruned", BigInteger, nullable=False),
        CheckConstraint("id = 1", name=f"ck_{prefix}_head_one_row"),
    )


def _checkpoints(metadata: MetaData, prefix: str) -> Table:
    return Table(
        f"{prefix}_checkpoints",
        metadata,
        Column("size", BigInteger, primary_key=True, autoincrement=False),
        Column("root_hash", String(64), nullable=False),
        Column("note", Text, nullable=False),
        Column("signed_at_ms", BigInteger, nullable=False),
    )


def encode(record: Record) -> tuple[tuple[Any, ...], bytes]:
    """A record's column values (in table order, without ``idx``) and its canonical
    bytes (``canonical_bytes``), in one pass; see ``encode_all``."""
    return encode_all((record,))[0]


def encode_all(records: Iterable[Record]) -> list[tuple[tuple[Any, ...], bytes]]:
    """``encode`` of each record: this is the append's hot path. The JSON text is
    assembled from the standard library's own string escaper into a template of
    the sorted keys, so it is the text ``COMPACT_JSON`` gives for the canonical
    document, at a fraction of the cost; a test holds the two equal for any valid
    record. The records of one request share most values (trace, times, purpose,
    organisation, fields, grants), so each distinct value is converted once per
    call; the memo lives only as long as the call."""
    texts: dict[str, str] = {}
    times: dict[datetime, tuple[int, str]] = {}
    keys: dict[tuple[str, ...], str] = {}
    out = []
    for record in records:
        plan = _PLANS[type(record)]
        row = list(plan.getter(record))
        pieces: list[str | None] = []
        for i, kind in plan.fields:
            value = row[i]
            if value is None:
                piece = None
            elif kind == _TEXT:
                piece = texts.get(value)
                if piece is None:
                    piece = texts[value] = _json_string(value)
            elif kind == _TIME:
                found = times.get(value)
                if found is None:
                    # digits, '-', ':', '.', 'T' and 'Z': nothing to escape
                    found = times[value] = (to_epoch_ms(value), f'"{iso_ms(value)}"')
                row[i], piece = found
            elif kind == _KEYS:
                piece = keys.get(value)
                if piece is None:
                    piece = keys[value] = "[" + ",".join(map(_json_string, value)) + "]"
                row[i] = piece
            else:
                piece = str(int(value))
            pieces.append(piece)
        if None in pieces:
            template = plan.template_without([p is not None for p in pieces])
            pieces = [p for p in pieces if p is not None]
        else:
            template = plan.template
        out.append((tuple(row), (template % tuple(pieces)).encode("utf-8")))
    return out


_TEXT, _TIME, _KEYS, _COUNT = range(4)


@dataclass(frozen=True)
class _Plan:
    getter: Any
    fields: tuple[tuple[int, int], ...]  # (row index, kind) in canonical key order
    names: tuple[str, ...]  # the JSON keys of ``fields``, in the same order
    kind: str
    template: str  # every field present

    def template_without(self, present: list[bool]) -> str:
        return _template([n for n, here in zip(self.names, present) if here],
                         self.kind)


def _template(names: list[str], kind: str) -> str:
    """``{"a":%s,"kind":"...","z":%s}``: the keys in sorted order (all ASCII, so
    Python's sort is JCS's code-unit sort), the record's kind written in. Sorting
    '"name":...' sorts by name: the closing quote sorts before every character of
    a field name, so a name sorts before any longer one it begins."""
    kind_part = '"kind":' + _json_string(kind).replace("%", "%%")
    parts = sorted([*(_json_string(name) + ":%s" for name in names), kind_part])
    return "{" + ",".join(parts) + "}"


def _plan(record_type: type) -> _Plan:
    spec = SPECS[record_type]
    names = list(spec)
    kinds = [_TIME if k == "time" else _KEYS if k == "keys" else
             _COUNT if k == "count" else _TEXT for k in spec.values()]
    order = sorted(range(len(names)), key=lambda i: names[i])
    return _Plan(
        getter=attrgetter(*names),
        fields=tuple((i, kinds[i]) for i in order),
        names=tuple(names[i] for i in order),
        kind=record_type.kind,
        template=_template([names[i] for i in order], record_type.kind))


_PLANS = {record_type: _plan(record_type) for record_type in SPECS}


@functools.lru_cache(maxsize=64)
def insert_sql(table: Table, paramstyle: str, rows: int = 1) -> str:
    """``INSERT`` of ``rows`` rows with positional parameters, for the driver's
    own executemany (one row) or its execute (several rows in one statement).
    Kept once made: every append inserts its access record with it, and making
    the text walks the table's columns each time."""
    mark = "?" if paramstyle == "qmark" else "%s"
    names = ", ".join(c.name for c in table.columns)
    one = "(" + ", ".join(mark for _ in table.columns) + ")"
    return f"INSERT INTO {table.name} ({names}) VALUES " + ", ".join([one] * rows)


# The columns an entry has of its own; the rest it shares with its run
# (``audit.leaves.EntryRun``), in the order the run's ``VALUES`` give them.
_OWN_COLUMNS = {"idx": "column1", "span_id": "column2", "subject": "column3",
                "fields": "column4", "grants": "column5"}


@functools.lru_cache(maxsize=64)
def run_insert_sql(table: Table, rows: int) -> str:
    """SQLite ``INSERT`` of ``rows`` entries of one run: the shared columns as
    parameters of the ``SELECT`` (first, in table order), each entry's own as a
    row of a ``VALUES`` list after them (SQLite numbers bare ``?`` in the order
    of the text). Only the table's own names and counts go into the text."""
    names = ", ".join(c.name for c in table.columns)
    picked = ", ".join(_OWN_COLUMNS.get(c.name, "?") for c in table.columns)
    values = ", ".join(["(?, ?, ?, ?, ?)"] * rows)
    return (f"INSERT INTO {table.name} ({names}) SELECT {picked} "
            f"FROM (VALUES {values})")


_BINARY_TYPES = ((SmallInteger, "int2"), (BigInteger, "int8"), (Integer, "int4"),
                 (LargeBinary, "bytea"), (String, "text"), (Text, "text"))


def copy_types(table: Table) -> list[str]:
    """The PostgreSQL type of each column, in table order, as binary ``COPY`` needs
    them: each value is sent in its type's binary form, which the server takes
    without parsing text. ``varchar`` takes the form of ``text``."""
    return [next(name for cls, name in _BINARY_TYPES if isinstance(column.type, cls))
            for column in table.columns]  # idx: BIGINT here, INTEGER only on SQLite


def record_row(record: Record) -> dict[str, Any]:
    """The stored form of a record's columns (without ``idx``)."""
    row: dict[str, Any] = {}
    for name, kind in SPECS[type(record)].items():
        value = getattr(record, name)
        if kind == "time":
            row[f"{name}_ms"] = to_epoch_ms(value)
        elif kind == "keys":
            row[name] = COMPACT_JSON.encode(list(value))
        else:
            row[name] = value
    return row


def row_record(record_type: type, row: Mapping[str, Any]) -> Record:
    """Rebuild a record from a stored row, refusing any non-canonical encoding: a row
    that would not be written this way was not written by ``append``."""
    return decode(record_type, row)[0]


def decode(record_type: type, row: Mapping[str, Any]) -> tuple[Record, bytes]:
    """``row_record`` and the record's canonical bytes, in one pass (``verify``)."""
    values: dict[str, Any] = {}
    try:
        for name, kind in SPECS[record_type].items():
            if kind == "time":
                values[name] = from_epoch_ms(_strict_int(name, row[f"{name}_ms"]))
            elif kind == "keys":
                values[name] = _parse_list(name, row[name])
            else:
                values[name] = row[name]
        record = record_type(**values)
    except (TypeError, ValueError, OverflowError, KeyError, RecursionError) as exc:
        raise InvalidAuditEntry("stored row", f"decodable ({exc})") from exc
    stored, canonical = encode(record)
    names = _COLUMN_NAMES[record_type]
    if stored != tuple(row[name] for name in names):
        raise InvalidAuditEntry("stored row", "in the canonical form append writes")
    return record, canonical


def _parse_list(name: str, text: object) -> tuple[str, ...]:
    value = json.loads(text) if isinstance(text, str) else None
    if not isinstance(value, list):
        raise InvalidAuditEntry(name, "a JSON array of strings")
    return tuple(value)  # the record checks that the items are strings


def _strict_int(name: str, value: object) -> int:
    if type(value) is not int:
        raise InvalidAuditEntry(name, "an integer")
    return value
