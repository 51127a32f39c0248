"""Bulk ingest of disclosures: the same checks as ``Ingest.disclosure``, batched.

Loading a whole sector (hundreds of thousands of holders moving to a new registry,
or a restore) one document per transaction costs about a millisecond each on
PostgreSQL. Here the expensive part that needs no database, verifying the holder's
and the grant's Ed25519 signatures and extracting the index columns, runs in a pool
of worker processes (one per core); the registry-state checks (replayed sequence,
withdrawn or foreign grant id) run per batch with a few set queries; and the rows go
in with SQLAlchemy Core executemany (SQLite) or COPY (PostgreSQL), never one ORM
object per row. A batch is one transaction: a refused document is reported by its
position and changes nothing, the accepted ones of its batch are stored together.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any, Iterable, Iterator, Mapping

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select
from sqlalchemy import update

from consent import ConsentError, check_audience_for_holder, read_disclosure
from schemas import SchemaError, WorkcontextValidator, check_references, parse_bounded

from .db import transaction
from .errors import RegistryError
from .extract import extract
from .ingest import _check_issued, pseudonym_for
from .match_index import entry_for, write_entries
from .policies import Policies
from .tables import CHILD_TABLES, Disclosure, DisclosureAudience, DisclosurePurpose
from .tables import DisclosureSkill, Holder, WithdrawnGrant

D, H, W = Disclosure.__table__, Holder.__table__, WithdrawnGrant.__table__
BATCH = 5000
CHUNK = 250  # documents per task sent to a worker

# Set in the parent just before the pool forks, so the workers inherit them
# without pickling (the reference data is large and built once).
_WORKER: dict[str, Any] = {}


@dataclass
class BulkResult:
    accepted: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)  # (position, code)


def _init_worker() -> None:
    _WORKER["validator"] = WorkcontextValidator()


def _verify(item: tuple[int, str]) -> tuple[int, Any]:
    """In a worker: the document checks of ``Ingest.disclosure`` that need no
    registry state (bounded parse, both signatures, the projection's structure and
    references), then extraction. Returns plain data or the refusal's code."""
    position, text = item
    try:
        found = read_disclosure(parse_bounded(text))
        _WORKER["validator"].check_structure(found.workcontext, found.holder)
        check_references(_WORKER["reference"], found.workcontext)
        columns = extract(found.workcontext, found.fields, _WORKER["tooi"])
    except (ConsentError, SchemaError) as exc:
        return position, exc.code
    grant = found.grant
    return position, {
        "holder": found.holder, "sequence": found.sequence, "grant": grant,
        "issued": found.issued,
        "fields": " ".join(sorted(found.fields)),
        "projection": json.dumps(found.workcontext, ensure_ascii=False),
        "employer": found.employer, "columns": columns,
    }


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

        ``texts`` is read one batch ahead of the database: the workers verify the
        next batch while this process stores the current one, and no more than two
        batches are held in memory, however long the input."""
        result = BulkResult()
        _WORKER.update(reference=self._geo, tooi=self._tooi)
        fork = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(self._workers, mp_context=fork,
                                 initializer=_init_worker) as pool:
            pending = None
            for batch in _batches(enumerate(texts), BATCH):
                verifying = (batch, pool.map(_verify, batch, chunksize=CHUNK))
                if pending is not None:
                    self._store(*pending, now, result)
                pending = verifying
            if pending is not None:
                self._store(*pending, now, result)
        return result

    def _store(self, batch: list[tuple[int, str]], verified: Iterable,
               now: datetime, result: BulkResult) -> None:
        texts = dict(batch)
        good = []
        for position, found in verified:
            problem = found if isinstance(found, str) else self._refusal(found, now)
            if problem:
                result.refused.append((position, problem))
            else:
                found["document"] = texts[position]
                good.append((position, found))
        with transaction(self._engine) as conn:
            admitted = self._admit(conn, good, result)
            kept = _against_state(conn, admitted, result)
            self._insert(conn, kept, now)
        result.accepted += len(kept)

    def _refusal(self, found: dict, now: datetime) -> str | None:
        """The checks of ``Ingest.disclosure`` that need no registry state. As
        there, a grant whose period has not begun is stored (the gate checks its
        start); one that has ended is refused."""
        grant = found["grant"]
        if grant.valid_until <= now:
            return "grant-not-live"
        try:
            _check_issued(found["issued"], now)
            grant.audience.check_known(self._geo)
            found["employer"] = self._policies.employer_code(found["employer"])
            check_audience_for_holder(grant.audience, found["employer"])
        except (ConsentError, RegistryError) as exc:
            return exc.code
        return None

    def _admit(self, conn: Connection, good: list[tuple[int, dict]],
               result: BulkResult) -> list[tuple[int, dict]]:
        """Each employer's policy on audiences, as ``Policies.admit`` applies it to
        one disclosure; the policies of the batch are read (and on PostgreSQL
        locked against a concurrent change) in one query."""
        employers = {f["employer"] for _, f in good if f["employer"] is not None}
        policies = self._policies.of_employers(conn, employers)
        admitted = []
        for position, found in good:
            policy = policies.get(found["employer"])
            try:
                if policy is not None:
                    policy.check(found["grant"].audience, self._geo)
            except ConsentError as exc:
                result.refused.append((position, exc.code))
                continue
            admitted.append((position, found))
        return admitted

    def _insert(self, conn: Connection, kept: list[dict], now: datetime) -> None:
        if not kept:
            return
        _upsert_holders(conn, kept, self._secret)
        ids = _reserve_ids(conn, len(kept))
        rows, children = [], {t: [] for t in CHILD_TABLES}
        for disclosure_id, found in zip(ids, kept):
            rows.append(_disclosure_row(disclosure_id, found, now))
            grant = found["grant"]
            children[DisclosurePurpose] += [(disclosure_id, p) for p in grant.purposes]
            children[DisclosureAudience] += [
                (disclosure_id, o) for o in grant.audience.organisations]
            children[DisclosureSkill] += [
                (disclosure_id, s) for s in found["columns"].skills]
        _write(conn, D, rows)
        for table, values in children.items():
            t = table.__table__
            names = [c.name for c in t.columns]
            _write(conn, t, [dict(zip(names, v)) for v in values])
        write_entries(conn, [
            entry_for(i, pseudonym_for(self._secret, f["holder"]), f["sequence"],
                      f["grant"], f["columns"]) for i, f in zip(ids, kept)])


def _batches(items: Iterator, size: int) -> Iterator[list]:
    while batch := list(islice(items, size)):
        yield batch


def _against_state(conn: Connection, good: list[tuple[int, dict]],
                   result: BulkResult) -> list[dict]:
    """The registry-state rules of ``Ingest.disclosure``, for a whole batch: the
    sequence must move forward per holder, a withdrawn grant id never returns, a
    grant id belongs to one holder; a re-published grant replaces its old row."""
    dids = sorted({f["holder"] for _, f in good})
    grant_ids = sorted({f["grant"].id for _, f in good})
    last = dict(conn.execute(select(H.c.did, H.c.last_sequence).where(
        H.c.did.in_(dids))).all()) if dids else {}
    withdrawn = set(conn.execute(select(W.c.grant_id).where(
        W.c.grant_id.in_(grant_ids))).scalars()) if grant_ids else set()
    owners = dict(conn.execute(select(D.c.grant_id, D.c.holder_did).where(
        D.c.grant_id.in_(grant_ids))).all()) if grant_ids else {}
    kept, replaced = [], []
    for position, found in sorted(good, key=lambda g: (g[1]["holder"],
                                                         g[1]["sequence"])):
        grant_id, holder = found["grant"].id, found["holder"]
        if found["sequence"] <= last.get(holder, 0):
            result.refused.append((position, "replayed-document"))
        elif grant_id in withdrawn:
            result.refused.append((position, "grant-withdrawn"))
        elif owners.get(grant_id, holder) != holder:
            result.refused.append((position, "grant-id-taken"))
        else:
            last[holder] = found["sequence"]
            if grant_id in owners:
                replaced.append(grant_id)
            owners[grant_id] = holder
            kept.append(found)
    _drop_replaced(conn, replaced)
    # Within the batch a later publication of one grant replaces an earlier one.
    latest = {f["grant"].id: f for f in kept}
    return list(latest.values())


def _drop_replaced(conn: Connection, grant_ids: list[str]) -> None:
    if not grant_ids:
        return
    ids = select(D.c.id).where(D.c.grant_id.in_(grant_ids))
    for table in CHILD_TABLES:
        t = table.__table__
        conn.execute(delete(t).where(t.c.disclosure_id.in_(ids)))
    conn.execute(delete(D).where(D.c.grant_id.in_(grant_ids)))


def _upsert_holders(conn: Connection, kept: list[dict], secret: bytes) -> None:
    top: dict[str, int] = {}
    for found in kept:
        top[found["holder"]] = max(top.get(found["holder"], 0), found["sequence"])
    known = set(conn.execute(select(H.c.did).where(H.c.did.in_(sorted(top))))
                .scalars())
    new = [{"did": d, "pseudonym": pseudonym_for(secret, d), "last_sequence": s}
           for d, s in top.items() if d not in known]
    _write(conn, H, new)
    moved = [{"d": d, "s": s} for d, s in top.items() if d in known]
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


def _disclosure_row(disclosure_id: int, found: dict, now: datetime) -> dict:
    grant, columns = found["grant"], found["columns"]
    audience = grant.audience
    return {
        "id": disclosure_id, "grant_id": grant.id, "holder_did": found["holder"],
        "sequence": found["sequence"], "audience_kind": audience.kind,
        "audience_ref": audience.ref,
        "valid_from": grant.valid_from, "valid_until": grant.valid_until,
        "fields": found["fields"], "projection": found["projection"],
        "document": found["document"], "employer_code": columns.employer_code,
        "level_rank": columns.level_rank, "hours_per_week": columns.hours_per_week,
        "available_from": columns.available_from,
        "available_until": columns.available_until, "received": now,
        "policy_employer": found["employer"],
    }


def _write(conn: Connection, table, rows: list[dict]) -> None:
    """COPY on PostgreSQL (psycopg 3), Core executemany elsewhere."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), rows)
        return
    names = list(rows[0])
    cursor = conn.connection.driver_connection.cursor()
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[n] for n in names])
