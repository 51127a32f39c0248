"""Bulk ingest of disclosures: the same checks as ``Ingest.disclosure``, batched.

Loading a whole sector (hundreds of thousands of holders moving to a new registry,
or a restore) one document per transaction costs about a millisecond each on
PostgreSQL. Here every check that needs no registry state runs in a pool of worker
processes (one per core): the bounded parse, the holder's and the grant's Ed25519
signatures, the grant's period and the document's issue time, the audience's
references, the projection's structure and references, the employer named and the
employer-audience rule. A worker sends back only the values of the rows to store
(plain tuples: pickling the parsed objects cost a worker a fifth of its time). The
registry-state checks (replayed sequence, also against an erasure, withdrawn or
foreign grant id, the employer's policy on audiences) run in this process per batch
with a few set queries, and the rows go in with the driver's executemany (SQLite)
or COPY (PostgreSQL), never one ORM object or one statement per row. A batch is one
transaction: a refused document is reported by its position and changes nothing,
the accepted ones of its batch are stored together.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, Callable, Iterable, Iterator, Mapping, NamedTuple

from sqlalchemy import ARRAY, ColumnElement, Connection, Engine, String, any_
from sqlalchemy import bindparam, delete, func, literal_column, select, text, update

from consent import Audience, ConsentError, check_audience_for_holder, read_disclosure
from schemas import SchemaError, WorkcontextValidator, check_references, parse_bounded

from .db import transaction
from .errors import GrantNotLive, RegistryError
from .extract import Extracted, extract
from .ingest import _check_issued, pseudonym_for
from .match_index import MD, MD_COLUMNS, MS, MS_COLUMNS, IndexEntry, index_rows
from .policies import Policies
from .tables import CHILD_TABLES, Disclosure, DisclosureAudience, DisclosurePurpose
from .tables import DisclosureSkill, ErasedHolder, Holder, WithdrawnGrant

D, H, W = Disclosure.__table__, Holder.__table__, WithdrawnGrant.__table__
E = ErasedHolder.__table__
BATCH = 5000
CHUNK = 250  # documents per task sent to a worker

# The disclosure columns a worker fills, in the order of ``Checked.row``; the parent
# adds the id before them and the document and receipt time after them.
CHECKED_COLUMNS = (
    "grant_id", "holder_did", "sequence", "audience_kind", "audience_ref",
    "valid_from", "valid_until", "fields", "projection", "employer_code",
    "level_rank", "hours_per_week", "available_from", "available_until",
    "policy_employer")
DISCLOSURE_COLUMNS = ("id", *CHECKED_COLUMNS, "document", "received")


@dataclass
class BulkResult:
    accepted: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)  # (position, code)


class Checked(NamedTuple):
    """A document that passed every check needing no registry state. A worker
    sends it as a plain tuple of strings and numbers (``Checked._make`` rebuilds
    it): pickling objects took a fifth of a worker's time."""

    holder: str
    pseudonym: str
    sequence: int
    grant_id: str
    audience: dict  # the grant's audience in its JSON form
    organisations: tuple[str, ...]  # the members of a listed audience
    employer: str | None  # the code of the employer whose policy governs the grant
    purposes: tuple[str, ...]
    skills: tuple[str, ...]
    row: tuple  # the values of CHECKED_COLUMNS, converted for the database
    index: tuple  # valid from and until, audience kind and ref, and the Extracted
    # columns after the skills, as ``match_index.IndexEntry`` needs them


class DocumentChecks:
    """The checks of ``Ingest.disclosure`` that need no registry state, in its
    order, for one JSON text; raises the refusal (ConsentError, SchemaError or
    RegistryError) of the first that fails."""

    def __init__(self, geo, tooi_to_code: Mapping[str, str], policies: Policies,
                 pseudonym_secret: bytes, now: datetime, dialect):
        self._geo = geo
        self._tooi = tooi_to_code
        self._policies = policies
        self._secret = pseudonym_secret
        self._now = now
        self._validator = WorkcontextValidator()
        self._convert = _converters(D, CHECKED_COLUMNS, dialect)

    def __call__(self, text: str) -> tuple:
        found = read_disclosure(parse_bounded(text))
        grant = found.grant
        # As in single ingest: a grant whose period has not begun is stored (the
        # gate checks its start); one that has ended is refused.
        if grant.valid_until <= self._now:
            raise GrantNotLive(grant.id)
        _check_issued(found.issued, self._now)
        grant.audience.check_known(self._geo)
        self._validator.check_structure(found.workcontext, found.holder)
        check_references(self._geo, found.workcontext)
        columns = extract(found.workcontext, found.fields, self._tooi)
        employer = self._policies.employer_code(found.employer)
        check_audience_for_holder(grant.audience, employer)
        audience = grant.audience
        row = (
            grant.id, found.holder, found.sequence, audience.kind, audience.ref,
            grant.valid_from, grant.valid_until, " ".join(sorted(found.fields)),
            json.dumps(found.workcontext, ensure_ascii=False), columns.employer_code,
            columns.level_rank, columns.hours_per_week, columns.available_from,
            columns.available_until, employer)
        return (found.holder, pseudonym_for(self._secret, found.holder),
                found.sequence, grant.id, audience.to_json(), audience.organisations,
                employer, grant.purposes, columns.skills, self._convert(row),
                (grant.valid_from, grant.valid_until, audience.kind, audience.ref,
                 columns.employer_code, columns.level_rank, columns.hours_per_week,
                 columns.available_from, columns.available_until))


# Set in each worker by ``_init_worker``; the pool forks, so the checks (with the
# reference data, large and built once) reach the workers without pickling.
_WORKER: dict[str, Any] = {}


def _init_worker(checks: DocumentChecks) -> None:
    # What the worker inherited lives as long as it does: out of the collector's
    # sight, a collection neither walks it nor copies its pages from the parent.
    # (The parent forks with its collector paused; the worker's runs.)
    gc.freeze()
    gc.enable()
    _WORKER["checks"] = checks


def _check(item: tuple[int, str]) -> tuple[int, tuple | str]:
    """In a worker: the document's ``Checked`` values or its refusal's code."""
    position, text = item
    try:
        return position, _WORKER["checks"](text)
    except (ConsentError, SchemaError, RegistryError) as exc:
        return position, exc.code


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

        ``texts`` is read one batch ahead of the database: the workers check the
        next batch while this process stores the current one, and no more than two
        batches are held in memory, however long the input. Into a registry that
        holds no disclosure yet, the whole load is one transaction that builds the
        secondary indexes of the disclosure tables once, at its end (see
        ``_defer_indexes_if_empty``)."""
        result = BulkResult()
        checks = DocumentChecks(self._geo, self._tooi, self._policies, self._secret,
                                now, self._engine.dialect)
        fork = multiprocessing.get_context("fork")
        with _cycle_collection_paused(), ProcessPoolExecutor(
                self._workers, mp_context=fork, initializer=_init_worker,
                initargs=(checks,)) as pool:
            batches = _checked_ahead(pool, texts)
            with transaction(self._engine) as conn:
                deferred = _defer_indexes_if_empty(conn)
                if deferred:
                    for batch, checked in batches:
                        self._store(conn, batch, checked, now, result)
                    for definition in deferred:
                        conn.exec_driver_sql(definition)
            for batch, checked in batches:  # none left after a deferred load
                with transaction(self._engine) as conn:
                    self._store(conn, batch, checked, now, result)
        return result

    def _store(self, conn: Connection, batch: list[tuple[int, str]],
               checked: Iterable, now: datetime, result: BulkResult) -> None:
        good = []
        for position, found in checked:
            if isinstance(found, str):
                result.refused.append((position, found))
            else:
                good.append((position, Checked._make(found)))
        admitted = self._admit(conn, good, result)
        kept = _against_state(conn, admitted, result)
        texts = dict(batch)
        _insert(conn, [(found, texts[position]) for position, found in kept], now)
        result.accepted += len(kept)

    def _admit(self, conn: Connection, good: list[tuple[int, Checked]],
               result: BulkResult) -> list[tuple[int, Checked]]:
        """Each employer's policy on audiences, as ``Policies.admit`` applies it to
        one disclosure; the policies of the batch are read (and on PostgreSQL
        locked against a concurrent change) in one query."""
        employers = {f.employer for _, f in good if f.employer is not None}
        policies = self._policies.of_employers(conn, employers)
        if not policies:
            return good
        admitted = []
        for position, found in good:
            policy = policies.get(found.employer)
            try:
                if policy is not None:
                    policy.check(Audience.from_json(found.audience), self._geo)
            except ConsentError as exc:
                result.refused.append((position, exc.code))
                continue
            admitted.append((position, found))
        return admitted


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
    """Each batch of (position, text) with the workers' results for it; the next
    batch is handed to the workers before this one is yielded to be stored."""
    pending = None
    for batch in _batches(enumerate(texts), BATCH):
        checking = (batch, pool.map(_check, batch, chunksize=CHUNK))
        if pending is not None:
            yield pending
        pending = checking
    if pending is not None:
        yield pending


def _defer_indexes_if_empty(conn: Connection) -> list[str]:
    """In a registry without disclosures: drop the secondary (non-unique) indexes
    of the disclosure tables and return the statements that build them again.

    Keeping the nine secondary indexes in step row by row took about a third of
    the store step's time (wall time on PostgreSQL, CPU time on SQLite); one build
    per index over the finished tables costs less.
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
        # The sqlite3 module opens a transaction only before a data statement: one
        # is opened here, so that the drops below belong to it.
        if not conn.connection.driver_connection.in_transaction:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        rows = conn.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
            "sql IS NOT NULL AND tbl_name IN (SELECT value FROM json_each(:tables)) "
            "AND instr(sql, 'CREATE UNIQUE') = 0 ORDER BY name"),
            {"tables": json.dumps(tables)}).all()
    if conn.execute(select(D.c.id).limit(1)).first() is not None:
        return []
    for name, _ in rows:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    return [definition for _, definition in rows]


def _batches(items: Iterator, size: int) -> Iterator[list]:
    while batch := list(islice(items, size)):
        yield batch


def _against_state(conn: Connection, good: list[tuple[int, Checked]],
                   result: BulkResult) -> list[tuple[int, Checked]]:
    """The registry-state rules of ``Ingest.disclosure``, for a whole batch: the
    sequence must move forward per holder (and above the erasure's sequence for a
    holder erased here), a withdrawn grant id never returns, a grant id belongs to
    one holder; a re-published grant replaces its old row."""
    dids = sorted({f.holder for _, f in good})
    grant_ids = sorted({f.grant_id for _, f in good})
    last = dict(conn.execute(select(H.c.did, H.c.last_sequence).where(
        _among(conn, H.c.did, dids))).all()) if dids else {}
    last.update(_erased_floors(conn, {f.holder: f.pseudonym for _, f in good
                                      if f.holder not in last}))
    withdrawn = set(conn.execute(select(W.c.grant_id).where(
        _among(conn, W.c.grant_id, grant_ids))).scalars()) if grant_ids else set()
    owners = dict(conn.execute(select(D.c.grant_id, D.c.holder_did).where(
        _among(conn, D.c.grant_id, grant_ids))).all()) if grant_ids else {}
    kept, replaced = [], []
    for position, found in sorted(good, key=lambda g: (g[1].holder, g[1].sequence)):
        grant_id, holder = found.grant_id, found.holder
        if found.sequence <= last.get(holder, 0):
            result.refused.append((position, "replayed-document"))
        elif grant_id in withdrawn:
            result.refused.append((position, "grant-withdrawn"))
        elif owners.get(grant_id, holder) != holder:
            result.refused.append((position, "grant-id-taken"))
        else:
            last[holder] = found.sequence
            if grant_id in owners:
                replaced.append(grant_id)
            owners[grant_id] = holder
            kept.append((position, found))
    _drop_replaced(conn, replaced)
    # Within the batch a later publication of one grant replaces an earlier one.
    latest = {f.grant_id: (p, f) for p, f in kept}
    return list(latest.values())


def _erased_floors(conn: Connection, pseudonyms: dict[str, str]) -> dict[str, int]:
    """The erasure sequence of each holder (did: pseudonym) that was erased here."""
    if not pseudonyms:
        return {}
    by_pseudonym = {p: d for d, p in pseudonyms.items()}
    floors = conn.execute(select(E.c.pseudonym, E.c.last_sequence).where(
        _among(conn, E.c.pseudonym, sorted(by_pseudonym))))
    return {by_pseudonym[p]: s for p, s in floors}


def _among(conn: Connection, column, values: list[str]) -> ColumnElement[bool]:
    """``column IN values`` with the values as one parameter (an array on
    PostgreSQL, a JSON array on SQLite): an IN list of a batch's thousands of
    parameters took longer to render and parse than the query took to run."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(String)))
    return column.in_(select(literal_column("value")).select_from(
        func.json_each(bindparam(None, json.dumps(list(values))))))


def _drop_replaced(conn: Connection, grant_ids: list[str]) -> None:
    if not grant_ids:
        return
    ids = select(D.c.id).where(D.c.grant_id.in_(grant_ids))
    for table in CHILD_TABLES:
        t = table.__table__
        conn.execute(delete(t).where(t.c.disclosure_id.in_(ids)))
    conn.execute(delete(D).where(D.c.grant_id.in_(grant_ids)))


# -- The insert step: holders, then disclosures with their child rows. -----------

def _insert(conn: Connection, kept: list[tuple[Checked, str]], now: datetime) -> None:
    """Store the admitted disclosures of one batch (``kept``: the checked values and
    the document as received)."""
    if not kept:
        return
    _upsert_holders(conn, [found for found, _ in kept])
    ids = _reserve_ids(conn, len(kept))
    received = _converters(D, ("received",), conn.dialect)((now,))[0]
    rows = []
    children: dict[Any, list[tuple]] = {t: [] for t in CHILD_TABLES}
    purposes = children[DisclosurePurpose]
    listed = children[DisclosureAudience]
    skills = children[DisclosureSkill]
    for disclosure_id, (found, document) in zip(ids, kept):
        rows.append((disclosure_id, *found.row, document, received))
        purposes += [(disclosure_id, p) for p in found.purposes]
        listed += [(disclosure_id, o) for o in found.organisations]
        skills += [(disclosure_id, s) for s in found.skills]
    _write(conn, D, DISCLOSURE_COLUMNS, rows)
    for table, values in children.items():
        t = table.__table__
        _write(conn, t, tuple(c.name for c in t.columns), values)
    # The match index rows, written the same fast way as the rows above.
    index, skill_index = index_rows(
        conn, [_index_entry(i, found) for i, (found, _) in zip(ids, kept)])
    for table, names, values in ((MD, MD_COLUMNS, index), (MS, MS_COLUMNS, skill_index)):
        convert = _converters(table, names, conn.dialect)
        _write(conn, table, names, [convert(row) for row in values])


def _index_entry(disclosure_id: int, found: Checked) -> IndexEntry:
    valid_from, valid_until, kind, ref, *columns = found.index
    return IndexEntry(disclosure_id, found.pseudonym, found.sequence, valid_from,
                      valid_until, kind, ref, found.organisations, found.purposes,
                      Extracted(found.skills, *columns))


def _upsert_holders(conn: Connection, kept: list[Checked]) -> None:
    top: dict[str, Checked] = {}
    for found in kept:
        if found.holder not in top or top[found.holder].sequence < found.sequence:
            top[found.holder] = found
    known = set(conn.execute(select(H.c.did).where(
        _among(conn, H.c.did, sorted(top)))).scalars())
    new = [(d, f.pseudonym, f.sequence) for d, f in top.items() if d not in known]
    _write(conn, H, ("did", "pseudonym", "last_sequence"), new)
    moved = [{"d": d, "s": f.sequence} for d, f in top.items() if d in known]
    if moved:
        conn.execute(update(H).where(H.c.did == bindparam("d"))
                     .values(last_sequence=bindparam("s")), moved)


def _reserve_ids(conn: Connection, n: int) -> list[int]:
    """Primary keys for ``n`` new disclosures, so children can be written with COPY
    without reading ids back. PostgreSQL: from the column's sequence (safe with
    concurrent writers). SQLite: above the current maximum, under the write lock
    that ``_upsert_holders`` already took in this transaction."""
    if conn.dialect.name == "postgresql":
        return list(conn.execute(select(func.nextval("disclosure_id_seq")).select_from(
            func.generate_series(1, n))).scalars())
    start = conn.execute(select(func.coalesce(func.max(D.c.id), 0))).scalar_one() + 1
    return list(range(start, start + n))


def _write(conn: Connection, table, names: tuple[str, ...], rows: list[tuple]) -> None:
    """COPY on PostgreSQL (psycopg 3), the driver's executemany elsewhere; the rows
    hold values as ``_converters`` made them."""
    if not rows:
        return
    cursor = conn.connection.driver_connection.cursor()
    if conn.dialect.name == "postgresql":
        statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" * len(names))
    cursor.executemany(
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})", rows)
    cursor.close()


def _converters(table, names: tuple[str, ...], dialect) -> Callable[[tuple], tuple]:
    """A function that converts a row's values as SQLAlchemy converts them for
    these columns on this database (dates and times become text on SQLite), so a
    row written by the driver reads back as one written by Core."""
    processors = [(i, p) for i, p in enumerate(
        table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names)
        if p is not None]
    if not processors:
        return tuple

    def convert(row: tuple) -> tuple:
        values = list(row)
        for i, process in processors:
            if values[i] is not None:
                values[i] = process(values[i])
        return tuple(values)

    return convert
