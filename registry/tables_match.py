"""The match index: a narrow copy of what ranking may read, kept beside each
disclosure and deleted with it.

Ranking reads these tables instead of ``disclosure`` (whose rows carry the signed
document and the projection). Texts are replaced by integer ids from
``match_term``: skill URIs, and the *reach keys* of an audience (its purpose, its
kind and the one code it refers to, for instance ``matching|province|PV26``). A
requester turns its own organisation into the few reach keys that contain it, from
today's reference data (``registry.match_index``), so visibility is an index
lookup on those keys and no audience is ever expanded into a stored list.

Every row belongs to one disclosure (``disclosure_id``) and is a child table of it:
withdrawal, replacement, expiry and erasure delete it in the same statement loop as
the disclosure's other children (DESIGN.md invariant 3); an employer's policy change
that suspends the disclosure moves its rows to other reach keys
(``registry.suspension``). A column is NULL, and a skill has no row, unless its field is in the
disclosure (invariant 2).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, func
from sqlmodel import Field, SQLModel

from .holder_columns import NAMES_PSEUDONYM


class MatchTerm(SQLModel, table=True):
    """A text the index refers to by number: a skill URI or a reach key."""

    __tablename__ = "match_term"
    id: Optional[int] = Field(default=None, primary_key=True)
    term: str = Field(unique=True)


class MatchDisclosure(SQLModel, table=True):
    """One row per (disclosure, reach key): the columns ranking merges per holder,
    kept in pseudonym order (on SQLite without a rowid, so reading a candidate's
    rows is one descent of one tree; measured: a fifth off a ranking query)."""

    __tablename__ = "match_disclosure"
    __table_args__ = (Index("ix_match_disclosure_disclosure_id", "disclosure_id"),
                      Index("ix_match_disclosure_employer_code", "employer_code"),
                      {"sqlite_with_rowid": False})
    pseudonym: str = Field(primary_key=True, max_length=32,
                           sa_column_kwargs={"info": NAMES_PSEUDONYM})
    disclosure_id: int = Field(foreign_key="disclosure.id", primary_key=True)
    reach: int = Field(primary_key=True)
    sequence: int
    valid_from: datetime
    valid_until: datetime
    employer_code: Optional[str] = Field(default=None, max_length=40)
    level_rank: Optional[int] = None
    hours_per_week: Optional[int] = None
    available_from: Optional[date] = None
    available_until: Optional[date] = None


class MatchSkill(SQLModel, table=True):
    """One row per (consented skill, reach key, disclosure): ranking walks the
    primary key from the wanted skills and the requester's reach keys alone."""

    __tablename__ = "match_skill"
    __table_args__ = (Index("ix_match_skill_disclosure_id", "disclosure_id"),
                      {"sqlite_with_rowid": False})
    skill: int = Field(primary_key=True)
    reach: int = Field(primary_key=True)
    pseudonym: str = Field(primary_key=True, max_length=32,
                           sa_column_kwargs={"info": NAMES_PSEUDONYM})
    disclosure_id: int = Field(foreign_key="disclosure.id", primary_key=True)
    valid_from: datetime
    valid_until: datetime


# SQLite: INTEGER PRIMARY KEY AUTOINCREMENT, so a number is never handed out twice.
_SEQ = BigInteger().with_variant(Integer(), "sqlite")


class MatchChange(SQLModel, table=True):
    """One row per disclosure whose ``match_disclosure`` rows were inserted,
    deleted or updated, written by triggers on that table in the writer's own
    transaction (``registry.match_changes``): every path that changes the index,
    bulk ingest included, is logged without its code knowing. The in-memory
    ranking index of each process replays this log to stay exact."""

    __tablename__ = "match_change"
    __table_args__ = (Index("ix_match_change_transaction_id", "transaction_id"),
                      {"sqlite_autoincrement": True})
    seq: Optional[int] = Field(default=None, sa_column=Column(
        _SEQ, primary_key=True, autoincrement=True))
    disclosure_id: int
    # PostgreSQL: the writing transaction's id (see registry.match_changes).
    transaction_id: Optional[int] = Field(default=None, sa_column=Column(
        BigInteger, nullable=True))
    created: datetime = Field(sa_column=Column(
        DateTime(), nullable=False, server_default=func.current_timestamp()))


MATCH_TABLES = (MatchTerm, MatchDisclosure, MatchSkill, MatchChange)
