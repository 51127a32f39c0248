"""The insert step of bulk ingest: holders, then disclosures with their child rows
and match index rows, written with COPY (PostgreSQL) or the driver's executemany.

The values arrive converted for the database by the workers
(``bulk_checks.Checked.row``); the match index rows reuse them as they are, so
this process converts nothing per row. Index rows are written in the order of
their table's primary key: inserted in key order, a batch's rows meet each page
of the tree once, where in arrival order each row lands on a page of its own.
"""

from __future__ import annotations

from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from .bulk_checks import CHECKED_COLUMNS, Checked, converters
from .db import among
from .match_changes import CHANGE
from .match_index import MD, MD_COLUMNS, MS, audience_keys, reach_terms
from .match_index import term_ids
from .tables import Disclosure, DisclosureAudience, DisclosurePurpose
from .tables import DisclosureSkill, Holder

D, H = Disclosure.__table__, Holder.__table__
DISCLOSURE_COLUMNS = ("id", *CHECKED_COLUMNS, "document", "received")

# Where the match index's values sit in ``Checked.row``.
_AT = {name: CHECKED_COLUMNS.index(name) for name in CHECKED_COLUMNS}
_LIVE = itemgetter(_AT["valid_from"], _AT["valid_until"])
_COLUMNS = itemgetter(*(_AT[name] for name in MD_COLUMNS[5:]))
_AUDIENCE = itemgetter(_AT["audience_kind"], _AT["audience_ref"])
# Primary key order of match_disclosure (pseudonym, disclosure_id, reach), as
# positions in its rows.
_MD_KEY = itemgetter(*(MD_COLUMNS.index(c) for c in (
    "pseudonym", "disclosure_id", "reach")))
_MD_ID = MD_COLUMNS.index("disclosure_id")
# The columns of match_skill as ``index_rows`` makes its rows: the primary key
# (skill, reach, pseudonym, disclosure_id) first, so the rows sort into key order
# as they are, without a key tuple made per row (a batch's 40,000 rows sorted in
# half the time).
MS_KEY_FIRST = ("skill", "reach", "pseudonym", "disclosure_id", "valid_from",
                "valid_until")


def insert(conn: Connection, kept: list[tuple[Checked, str]], now: datetime,
           log_changes: bool = False, advanced: list[Checked] | None = None) -> None:
    """Store the admitted disclosures of one batch (``kept``: the checked values and
    the document as received), and move the holders' sequence numbers to theirs
    and to those of ``advanced`` (refused documents that retracted a grant).
    ``log_changes``: write the change-log row of each ``match_disclosure`` row, in
    their order, as its insert trigger does (the load dropped it,
    ``bulk._defer_change_trigger``)."""
    if kept or advanced:
        upsert_holders(conn, [found for found, _ in kept] + list(advanced or ()))
    if not kept:
        return
    ids = reserve_ids(conn, len(kept))
    received = converters(D, ("received",), conn.dialect)((now,))[0]
    rows = []
    purposes: list[tuple] = []
    listed: list[tuple] = []
    skills: list[tuple] = []
    for disclosure_id, (found, document) in zip(ids, kept):
        rows.append((disclosure_id, *found.row, document, received))
        purposes += [(disclosure_id, p) for p in found.purposes]
        listed += [(disclosure_id, o) for o in found.organisations]
        skills += [(disclosure_id, s) for s in found.skills]
    write(conn, D, DISCLOSURE_COLUMNS, rows)
    for table, values in ((DisclosurePurpose, purposes), (DisclosureAudience, listed),
                          (DisclosureSkill, skills)):
        t = table.__table__
        write(conn, t, tuple(c.name for c in t.columns), values)
    index, skill_index = index_rows(conn, ids, [found for found, _ in kept])
    index.sort(key=_MD_KEY)
    write(conn, MD, MD_COLUMNS, index)
    if log_changes:
        write(conn, CHANGE, ("disclosure_id",), [(r[_MD_ID],) for r in index])
    skill_index.sort()
    write(conn, MS, MS_KEY_FIRST, skill_index)


def index_rows(conn: Connection, ids: list[int], kept: list[Checked]
               ) -> tuple[list[tuple], list[tuple]]:
    """The match index rows of the batch's disclosures (``ids`` in the order of
    ``kept``), as ``match_index.index_rows`` makes them for single ingest but from
    the converted values, those of match_skill in the order of ``MS_KEY_FIRST``;
    new terms are added."""
    reach_of: dict[tuple, list[str]] = {}
    reach = []
    for found in kept:
        rule = (*_AUDIENCE(found.row), found.organisations, found.purposes)
        terms = reach_of.get(rule)
        if terms is None:
            keys = audience_keys(rule[0], rule[1], found.organisations)
            terms = reach_of[rule] = [t for p in found.purposes
                                      for t in reach_terms(p, keys)]
        reach.append(terms)
    wanted = {t for terms in reach_of.values() for t in terms}
    wanted.update(s for found in kept for s in found.skills)
    term = term_ids(conn, wanted)
    rows, skill_rows = [], []
    for disclosure_id, found, terms in zip(ids, kept, reach):
        live = (found.pseudonym, disclosure_id, *_LIVE(found.row))
        columns = _COLUMNS(found.row)
        skill_ids = [term[s] for s in found.skills]
        for reach_id in (term[t] for t in terms):
            rows.append((reach_id, *live, *columns))
            skill_rows += [(s, reach_id, *live) for s in skill_ids]
    return rows, skill_rows


def upsert_holders(conn: Connection, kept: list[Checked]) -> None:
    top: dict[str, Checked] = {}
    for found in kept:
        if found.holder not in top or top[found.holder].sequence < found.sequence:
            top[found.holder] = found
    known = set(conn.execute(select(H.c.did).where(
        among(conn, H.c.did, sorted(top)))).scalars())
    new = [(d, f.pseudonym, f.sequence) for d, f in sorted(top.items())
           if d not in known]
    write(conn, H, ("did", "pseudonym", "last_sequence"), new)
    moved = [{"d": d, "s": f.sequence} for d, f in top.items() if d in known]
    if moved:
        conn.execute(update(H).where(H.c.did == bindparam("d"))
                     .values(last_sequence=bindparam("s")), moved)


def reserve_ids(conn: Connection, n: int) -> list[int]:
    """Primary keys for ``n`` new disclosures, so children can be written with COPY
    without reading ids back. PostgreSQL: from the column's sequence (safe with
    concurrent writers). SQLite: above the current maximum, under the write lock
    that ``upsert_holders`` already took in this transaction."""
    if conn.dialect.name == "postgresql":
        return list(conn.execute(select(func.nextval("disclosure_id_seq")).select_from(
            func.generate_series(1, n))).scalars())
    start = conn.execute(select(func.coalesce(func.max(D.c.id), 0))).scalar_one() + 1
    return list(range(start, start + n))


def write(conn: Connection, table, names: tuple[str, ...], rows: list[tuple]) -> None:
    """COPY on PostgreSQL (psycopg 3), the driver's executemany elsewhere; the rows
    hold values as ``bulk_checks.converters`` made them.

    COPY sends the binary format, each value dumped by the type of its column as
    the server reports it: a fourth of the client's time per row of the text
    format, where each value's dumper was chosen from its Python type and written
    out as text (measured on match_skill-shaped rows: 2.6 against 0.7 us), and
    the server reads the values without parsing them."""
    if not rows:
        return
    cursor: Any = conn.connection.driver_connection.cursor()
    if conn.dialect.name == "postgresql":
        types = column_types(cursor, table.name)
        statement = (f"COPY {table.name} ({', '.join(names)}) FROM STDIN "
                     "(FORMAT BINARY)")
        with cursor.copy(statement) as copy:
            copy.set_types([types[name] for name in names])
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" * len(names))
    cursor.executemany(
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})", rows)
    cursor.close()



def column_types(cursor: Any, table: str) -> dict[str, int]:
    """PostgreSQL: the type (oid) of each column of ``table``, as the server has
    it (the binary format must match it exactly: an int4 is not an int8)."""
    cursor.execute(
        "SELECT attname, atttypid::int FROM pg_attribute WHERE attrelid = "
        "%s::regclass AND attnum > 0 AND NOT attisdropped", (table,))
    return dict(cursor.fetchall())
