"""The registry's tables.

Personal data lives only in ``disclosure`` (the signed document and its projection)
and in columns extracted from that projection for filtering and ranking. An extracted
column is NULL unless its field is in the disclosure, so a withheld field can not
filter or rank anything (DESIGN.md invariant 2).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel

from .holder_columns import NAMES_DID, NAMES_PSEUDONYM
from .policy_tables import EmployerPolicyRow, EmploymentRow, LegalBasisRow
from .policy_tables import PolicyNotice
from .tables_match import MatchChange, MatchDisclosure, MatchSkill, MatchTerm
from .tables_video import VideoShare


class Organisation(SQLModel, table=True):
    code: str = Field(primary_key=True, max_length=40)
    name: str
    sector: str = Field(index=True)
    province_code: Optional[str] = Field(default=None, index=True)


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"
    id: Optional[int] = Field(default=None, primary_key=True)
    key_hash: str = Field(unique=True, max_length=64)
    organisation: str = Field(foreign_key="organisation.code", index=True)
    role: str  # "staff" | "dpo" | "platform-dpo"
    label: str
    created: datetime
    # Set when the key was revoked; its hash is then replaced, and the row stays so
    # that its id names one key for good (the log's actor "apikey:<id>") and a
    # second revocation can say so.
    revoked: Optional[datetime] = None


class Holder(SQLModel, table=True):
    did: str = Field(primary_key=True, max_length=80,
                     sa_column_kwargs={"info": NAMES_DID})
    pseudonym: str = Field(unique=True, max_length=32,
                           sa_column_kwargs={"info": NAMES_PSEUDONYM})
    last_sequence: int = 0


class Disclosure(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    grant_id: str = Field(unique=True, max_length=200)
    holder_did: str = Field(foreign_key="holder.did", index=True, max_length=80,
                            sa_column_kwargs={"info": NAMES_DID})
    sequence: int
    audience_kind: str = Field(index=True)
    audience_ref: Optional[str] = Field(default=None, index=True)
    valid_from: datetime
    valid_until: datetime = Field(index=True)
    fields: str  # space-separated field keys present in the projection
    projection: str  # JSON of the projected Workcontext
    document: str  # the signed disclosure as received
    employer_code: Optional[str] = Field(default=None, index=True)
    level_rank: Optional[int] = None
    hours_per_week: Optional[int] = None
    available_from: Optional[date] = None
    available_until: Optional[date] = None
    received: datetime
    # The organisation whose policy on audiences governs this grant: the holder's
    # employer as the signed disclosure names it. Used only to apply that policy;
    # never read by the gate and never shown to any organisation.
    policy_employer: Optional[str] = Field(default=None, index=True, max_length=40)
    # The copy of the intro video the projection names (a share id), when it grants
    # ``intro_video``: one share is named by one grant only, checked through this
    # index before the copy arrives (video_shares.check_own_share).
    video_share: Optional[str] = Field(default=None, index=True, max_length=32)
    # The employer whose policy suspended this grant (registry/suspension.py), or
    # NULL: a suspended disclosure is kept, shown to no organisation but that
    # employer, and shown to the rest of its audience again when the employer's
    # policy allows it. ``suspension.ENDED`` (no organisation's code): hidden from
    # every organisation because the employer its audience names ended the
    # employment (registry/employment_reach.py). Like ``policy_employer``, never
    # shown to an organisation.
    suspended_by: Optional[str] = Field(default=None, max_length=40)


class WithdrawnGrant(SQLModel, table=True):
    """Grant ids withdrawn by their holder: a disclosure under one is refused forever,
    so a publication that raced the withdrawal can not bring the data back."""

    __tablename__ = "withdrawn_grant"
    grant_id: str = Field(primary_key=True, max_length=200)
    holder_did: str = Field(index=True, max_length=80,
                            sa_column_kwargs={"info": NAMES_DID})


class ErasedWithdrawal(SQLModel, table=True):
    """What an erasure keeps of a withdrawn grant: a keyed hash of its id, naming
    neither the grant nor the holder (withdrawn.py)."""

    __tablename__ = "erased_withdrawal"
    grant_key: str = Field(primary_key=True, max_length=64)


# The tables of a disclosure's purposes, audience members and skills are keyed by
# (disclosure_id, value) alone; on SQLite without a rowid, so a row is one B-tree
# insert instead of two (migration 0015 says what that saved).


class DisclosurePurpose(SQLModel, table=True):
    __tablename__ = "disclosure_purpose"
    __table_args__ = {"sqlite_with_rowid": False}
    disclosure_id: int = Field(foreign_key="disclosure.id", primary_key=True)
    purpose: str = Field(primary_key=True, index=True)


class DisclosureAudience(SQLModel, table=True):
    """Members of audiences that list organisations explicitly."""

    __tablename__ = "disclosure_audience"
    __table_args__ = {"sqlite_with_rowid": False}
    disclosure_id: int = Field(foreign_key="disclosure.id", primary_key=True)
    organisation: str = Field(primary_key=True, index=True)


class DisclosureSkill(SQLModel, table=True):
    __tablename__ = "disclosure_skill"
    # Ranking starts from the wanted skills: (skill, disclosure_id) answers that from
    # the index alone, where an index on skill needed a table lookup per row.
    __table_args__ = (Index("ix_disclosure_skill_skill_disclosure", "skill",
                            "disclosure_id"), {"sqlite_with_rowid": False})
    disclosure_id: int = Field(foreign_key="disclosure.id", primary_key=True)
    skill: str = Field(primary_key=True)


class Assignment(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    organisation: str = Field(foreign_key="organisation.code", index=True)
    title: str
    description: str
    required_skills: str  # JSON list of ESCO skill URIs
    optional_skills: str  # JSON list of ESCO skill URIs
    optional_weights: str = Field(default="{}",
                                  sa_column_kwargs={"server_default": "{}"})
    function_family: Optional[str] = None
    level_min: Optional[int] = None
    level_max: Optional[int] = None
    hours_per_week: Optional[int] = None
    period_start: Optional[date] = None
    period_end: Optional[date] = None
    field_of_work: Optional[str] = None
    location: Optional[str] = None  # municipality code where the work is done
    remote: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    circle: str
    circle_ref: Optional[str] = None  # the sector of a sector circle
    freelancers: bool = Field(default=True, sa_column_kwargs={"server_default": "1"})
    status: str = "open"
    created: datetime
    updated: Optional[datetime] = None
    # Its place in the feed of open assignments (``registry.feed``): taken from
    # ``FeedSequence`` each time it becomes open; none while it never was.
    opened: Optional[int] = Field(default=None, sa_type=BigInteger, unique=True,
                                  index=True)


class FeedSequence(SQLModel, table=True):
    """The last feed position handed out (one row). An opening updates it, and so
    holds its row lock until it commits: positions become visible in the order
    they were taken, and a pod that read up to one never misses a lower one."""

    __tablename__ = "feed_sequence"
    id: int = Field(primary_key=True)
    position: int = Field(sa_type=BigInteger)


class AssignmentPass(SQLModel, table=True):
    """Candidates a project leader passed on for one assignment, by pseudonym only:
    they are left out of that assignment's later candidate lists."""

    __tablename__ = "assignment_pass"
    assignment_id: int = Field(foreign_key="assignment.id", primary_key=True)
    pseudonym: str = Field(primary_key=True, max_length=32,
                           sa_column_kwargs={"info": NAMES_PSEUDONYM})
    created: datetime


class ErasedHolder(SQLModel, table=True):
    """What stays of an erased holder: the pseudonym and the last sequence number,
    so a captured old document can not bring the data back (GDPR art. 17). The
    audit log refers to the same pseudonym; no did, no field."""

    __tablename__ = "erased_holder"
    pseudonym: str = Field(primary_key=True, max_length=32)
    last_sequence: int
    erased: datetime


class WebSession(SQLModel, table=True):
    """A browser session an organisation's API key was exchanged for. Only the
    SHA-256 of the session token is kept, like the key's; revoking the key ends
    its sessions."""

    __tablename__ = "web_session"
    token_hash: str = Field(primary_key=True, max_length=64)
    key_id: int = Field(foreign_key="api_key.id", index=True)
    expires: datetime


# Rows that belong to one disclosure and are deleted with it (the match index too).
CHILD_TABLES = (DisclosurePurpose, DisclosureAudience, DisclosureSkill,
                MatchDisclosure, MatchSkill)


def metadata_for_migrations():
    """The registry's tables alone (the audit log's share SQLModel.metadata)."""
    from sqlalchemy import MetaData

    from .tables_work import WORK_TABLE_NAMES  # the working life's tables too

    names = {t.name for t in REGISTRY_TABLES} | WORK_TABLE_NAMES
    metadata = MetaData()
    for table in SQLModel.metadata.sorted_tables:
        if table.name in names:
            table.to_metadata(metadata)
    return metadata


REGISTRY_TABLES = tuple(m.__table__ for m in (
    Organisation, ApiKey, Holder, Disclosure, WithdrawnGrant, ErasedWithdrawal,
    DisclosurePurpose, DisclosureAudience, DisclosureSkill, Assignment, AssignmentPass,
    FeedSequence,
    EmployerPolicyRow, LegalBasisRow, PolicyNotice, ErasedHolder, EmploymentRow,
    WebSession, MatchTerm, MatchDisclosure, MatchSkill, MatchChange, VideoShare))
