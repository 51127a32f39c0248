"""The change log of the match index: which disclosures' index rows changed, in
commit order, so that a process's in-memory ranking index (``registry.match_memory``)
can follow the database exactly.

Triggers on ``match_disclosure`` write one ``match_change`` row per changed
disclosure in the writer's own transaction: single and bulk ingest, replacement,
withdrawal, expiry, an employer's policy change, erasure and the migration's
back-fill all change the index through that table, so none of them can forget
to log (DESIGN.md invariant 3: the next query must not rank on a withdrawn
disclosure). ``match_skill`` rows are only ever written and deleted together
with their disclosure's ``match_disclosure`` rows, in the same transaction.

Reading the log without missing a commit:

- SQLite has one writer at a time, so the sequence numbers commit in order and
  a reader asks for those above the last one it applied.
- PostgreSQL hands out sequence numbers before commit, so a later number can
  commit first. Each row also keeps its writing transaction's id, and a reader
  also asks again for every row of a transaction that was still running when it
  last read (ids at or above that snapshot's ``xmin``). A row invisible to the
  previous read belongs to such a transaction, so it is read now. Re-reading a
  row is harmless: the reader reloads the disclosure's current rows.

Rows older than a day are pruned (``prune``); a reader that has not read for
half that long reloads the whole index instead of replaying
(``registry.match_memory``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, event, text
from sqlmodel import SQLModel

from .tables_match import MatchChange

CHANGE = MatchChange.__table__
KEEP_HOURS = 24

_SQLITE = [
    f"CREATE TRIGGER IF NOT EXISTS match_change_on_{op.lower()} AFTER {op} ON "
    f"match_disclosure BEGIN {body} END"
    for op, body in (
        ("INSERT", "INSERT INTO match_change (disclosure_id) "
                   "VALUES (NEW.disclosure_id);"),
        ("DELETE", "INSERT INTO match_change (disclosure_id) "
                   "VALUES (OLD.disclosure_id);"),
        ("UPDATE", "INSERT INTO match_change (disclosure_id) "
                   "VALUES (OLD.disclosure_id); INSERT INTO match_change "
                   "(disclosure_id) VALUES (NEW.disclosure_id);"),
    )
]

# One statement-level trigger per kind of change, over its transition tables
# (fired by COPY too): one log row per disclosure, not per reach key.
_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION match_change_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO match_change (disclosure_id, transaction_id)
        SELECT DISTINCT disclosure_id, pg_current_xact_id()::text::bigint FROM added;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO match_change (disclosure_id, transaction_id)
        SELECT DISTINCT disclosure_id, pg_current_xact_id()::text::bigint FROM removed;
    ELSE
        INSERT INTO match_change (disclosure_id, transaction_id)
        SELECT disclosure_id, pg_current_xact_id()::text::bigint
        FROM (SELECT disclosure_id FROM added UNION SELECT disclosure_id FROM removed)
        AS changed;
    END IF;
    RETURN NULL;
END $$
"""
_PG = [_PG_FUNCTION] + [
    f"CREATE TRIGGER match_change_on_{op.lower()} AFTER {op} ON match_disclosure "
    f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION match_change_log()"
    for op, tables in (("INSERT", "NEW TABLE AS added"),
                       ("DELETE", "OLD TABLE AS removed"),
                       ("UPDATE", "OLD TABLE AS removed NEW TABLE AS added"))
]


def install_triggers(conn: Connection) -> None:
    """Create the triggers (the tables must exist); for the migration and for a
    schema created in one step."""
    if conn.dialect.name == "postgresql":
        for op in ("insert", "delete", "update"):
            conn.exec_driver_sql(
                f"DROP TRIGGER IF EXISTS match_change_on_{op} ON match_disclosure")
    for statement in _PG if conn.dialect.name == "postgresql" else _SQLITE:
        conn.exec_driver_sql(statement)


@event.listens_for(SQLModel.metadata, "after_create")
def _after_create(metadata, conn: Connection, tables=None, **_kw) -> None:
    names = {t.name for t in tables} if tables is not None else set(metadata.tables)
    if {"match_disclosure", "match_change"} <= names:
        install_triggers(conn)


@dataclass(frozen=True, slots=True)
class Mark:
    """How far a reader has read: the highest sequence number applied and, on
    PostgreSQL, the oldest transaction id that was still running then."""

    seq: int
    xmin: int | None


def mark_now(conn: Connection) -> Mark:
    """The reader's mark for a full load done in this transaction's snapshot."""
    seq = conn.execute(text("SELECT coalesce(max(seq), 0) FROM match_change")
                       ).scalar_one()
    return Mark(seq, _xmin(conn))


def changed_since(conn: Connection, mark: Mark) -> tuple[set[int], Mark]:
    """The disclosures whose index rows changed after ``mark``, and the new mark;
    call in one snapshot with the read of their rows.

    On PostgreSQL the rows and the new mark's ``xmin`` come from one statement,
    so from one snapshot: a transaction still running when the rows were read
    is at or above that ``xmin``, even when it commits a moment later (read
    committed gives each statement a snapshot of its own; an ``xmin`` read by a
    later statement could pass such a transaction, and its rows, by)."""
    if conn.dialect.name == "postgresql":
        rows = conn.execute(text(
            "SELECT s.xmin, c.seq, c.disclosure_id FROM (SELECT pg_snapshot_xmin("
            "pg_current_snapshot())::text::bigint AS xmin) AS s LEFT JOIN ("
            "SELECT seq, disclosure_id FROM match_change WHERE seq > :seq "
            "OR transaction_id >= :xmin) AS c ON true"),
            {"seq": mark.seq, "xmin": mark.xmin}).all()
        xmin = int(rows[0][0])
        rows = [(seq, d) for _, seq, d in rows if seq is not None]
    else:
        rows = conn.execute(text(
            "SELECT seq, disclosure_id FROM match_change WHERE seq > :seq"),
            {"seq": mark.seq}).all()
        xmin = None
    top = max((seq for seq, _ in rows), default=mark.seq)
    return {d for _, d in rows}, Mark(max(top, mark.seq), xmin)


def prune(conn: Connection) -> int:
    """Delete log rows older than KEEP_HOURS (by the database's clock)."""
    if conn.dialect.name == "postgresql":
        cutoff = f"now() - interval '{KEEP_HOURS} hours'"
    else:
        cutoff = f"datetime('now', '-{KEEP_HOURS} hours')"
    return conn.execute(text(f"DELETE FROM match_change WHERE created < {cutoff}")
                        ).rowcount


def _xmin(conn: Connection) -> int | None:
    if conn.dialect.name != "postgresql":
        return None
    return int(conn.execute(text(
        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text")).scalar_one())
