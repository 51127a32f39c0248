"""Erasure of a holder on the holder's signed request (GDPR art. 17 and 19).

The request is verified like a withdrawal: the holder's signature over a document of
type ``ErasureRequest`` and a sequence number above every one seen from the holder.
In one transaction the registry then deletes every disclosure of the holder with its
child rows, the holder's withdrawn-grant ids and every other row that names the
holder by did or pseudonym (the columns marked in holder_columns.py): the holder's
own swipes and the organisations' swipes and passes on them, team and group
memberships, rating receipts either way, the employment attestation, policy notices
and the holder row. An interest group the holder founded stays for its other
members, without its founder. The registry keeps only the pseudonym with the last
sequence number in ``erased_holder`` and a keyed hash of each withdrawn grant id in
``erased_withdrawal`` (withdrawn.py), so neither an old document nor a restored
backup brings back what the holder ended. Audit entries are kept: they name the
pseudonym, never the did or a field value (DESIGN.md invariant 8).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update

from consent import parse_time, verify_document

from .db import registry_tables, transaction
from .errors import InvalidErasureRequest, ReplayedDocument
from .holder_columns import holder_columns
from .ingest import erased_floor, pseudonym_for
from .tables import CHILD_TABLES, Disclosure, ErasedHolder, Holder
from .withdrawn import keep_through_erasure

ERASURE_TYPE = "ErasureRequest"
T_DISCLOSURE = Disclosure.__table__
T_ERASED = ErasedHolder.__table__
T_HOLDER = Holder.__table__


@dataclass(frozen=True, slots=True)
class Erased:
    holder_pseudonym: str
    disclosures: int


def read_erasure(document: Any) -> tuple[str, int]:
    """The holder and sequence of a verified erasure request."""
    if not isinstance(document, dict) or document.get("type") != ERASURE_TYPE:
        raise InvalidErasureRequest([f"document must be an {ERASURE_TYPE}"])
    unknown = sorted(set(document) - {"type", "holder", "sequence", "issued", "proof"})
    if unknown:
        raise InvalidErasureRequest([f"unknown member {name}" for name in unknown])
    holder = document.get("holder")
    verify_document(document, holder)
    sequence = document.get("sequence")
    if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
        raise InvalidErasureRequest(["sequence must be a positive integer"])
    parse_time(document.get("issued"), "issued")
    return holder, sequence


class Erasure:
    def __init__(self, engine: Engine, pseudonym_secret: bytes):
        self._engine = engine
        self._secret = pseudonym_secret

    def erase(self, document: Any, now: datetime) -> Erased:
        holder, sequence = read_erasure(document)
        pseudonym = pseudonym_for(self._secret, holder)
        with transaction(self._engine) as conn:
            _check_sequence(conn, holder, pseudonym, sequence)
            purged = _purge(conn, self._secret, holder, pseudonym)
            _remember(conn, pseudonym, sequence, now)
        return Erased(pseudonym, purged)


def _check_sequence(conn: Connection, holder: str, pseudonym: str,
                    sequence: int) -> None:
    last = conn.execute(select(T_HOLDER.c.last_sequence).where(
        T_HOLDER.c.did == holder)).scalar_one_or_none()
    last = max(last or 0, erased_floor(conn, pseudonym))
    if sequence <= last:
        raise ReplayedDocument(sequence, last)


def _purge(conn: Connection, secret: bytes, holder: str, pseudonym: str) -> int:
    ids = select(T_DISCLOSURE.c.id).where(T_DISCLOSURE.c.holder_did == holder)
    for table in CHILD_TABLES:
        t = table.__table__
        conn.execute(delete(t).where(t.c.disclosure_id.in_(ids)))
    purged = conn.execute(delete(T_DISCLOSURE).where(
        T_DISCLOSURE.c.holder_did == holder)).rowcount
    keep_through_erasure(conn, secret, holder)
    _clear_holder_columns(conn, {"did": holder, "pseudonym": pseudonym})
    return purged


def _clear_holder_columns(conn: Connection, values: dict[str, str]) -> None:
    """Every row whose marked column names the holder goes, children before their
    parents (``holder`` last); a nullable column that only records who made an
    organisation's or a group's row (a group's founder) is set to NULL, the row
    stays for the others in it."""
    for table, column, kind in holder_columns(reversed(registry_tables())):
        named = column == values[kind]
        if column.nullable and not column.primary_key:
            conn.execute(update(table).where(named).values({column.name: None}))
        else:
            conn.execute(delete(table).where(named))


def _remember(conn: Connection, pseudonym: str, sequence: int, now: datetime) -> None:
    moved = conn.execute(update(T_ERASED).where(T_ERASED.c.pseudonym == pseudonym)
                         .values(last_sequence=sequence, erased=now)).rowcount
    if moved == 0:
        conn.execute(insert(T_ERASED).values(pseudonym=pseudonym,
                                             last_sequence=sequence, erased=now))
