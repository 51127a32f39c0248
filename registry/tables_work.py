"""Tables for the working life after matching: swipes, teams, products, interest
groups and the receipts of delivered ratings.

People appear here only by the registry's pseudonym, never by did or by a field value:
what a person *is* stays in consented disclosures and is read through the gate. A
rating's content is never stored (it is sealed to the rated holder and delivered);
``rating_receipt`` only remembers that one was sent, so it can not be sent twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Index, LargeBinary, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from .holder_columns import NAMES_PSEUDONYM


class Swipe(SQLModel, table=True):
    """One decision on one side: the organisation on a candidate, or the holder on an
    assignment. A like on both sides is a match; deleting a row is the undo."""

    __tablename__ = "swipe"
    __table_args__ = (UniqueConstraint("assignment_id", "side", "subject"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    side: str  # "organisation" | "holder"
    subject: str = Field(index=True, max_length=32,
                         sa_column_kwargs={"info": NAMES_PSEUDONYM})
    decision: str  # "like" | "pass"
    decided: datetime


class Team(SQLModel, table=True):
    """A name is unique within its organisation only: one organisation's choice of
    name neither limits another's nor tells it that the name is in use."""

    __table_args__ = (Index("ix_team_organisation_name", "organisation", "name",
                            unique=True),)
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    organisation: str = Field(foreign_key="organisation.code", index=True)
    status: str = "active"  # "active" | "dissolved"
    created: datetime
    dissolved: Optional[datetime] = None


class TeamMember(SQLModel, table=True):
    """Membership. On dissolution ``active`` turns false: the members are no longer
    connected through the team, but who was in it stays known for rating."""

    __tablename__ = "team_member"
    team_id: int = Field(foreign_key="team.id", primary_key=True)
    subject: str = Field(primary_key=True, max_length=32,
                         sa_column_kwargs={"info": NAMES_PSEUDONYM})
    active: bool = True


class TeamProduct(SQLModel, table=True):
    __tablename__ = "team_product"
    id: Optional[int] = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    title: str = Field(max_length=200)
    url: Optional[str] = Field(default=None, max_length=2000)
    file_name: Optional[str] = Field(default=None, max_length=200)
    media_type: Optional[str] = Field(default=None, max_length=100)
    content: Optional[bytes] = Field(default=None, sa_column=Column(LargeBinary))
    added: datetime


class InterestGroup(SQLModel, table=True):
    __tablename__ = "interest_group"
    id: Optional[int] = Field(default=None, primary_key=True)
    slug: str = Field(unique=True, max_length=80)
    name: str = Field(max_length=120)
    theme: str = Field(max_length=500)
    created: datetime
    # The pseudonym of the holder who made it: what one holder founds is bounded.
    founder: Optional[str] = Field(default=None, max_length=32, index=True,
                                   sa_column_kwargs={"info": NAMES_PSEUDONYM})


class GroupMember(SQLModel, table=True):
    __tablename__ = "group_member"
    group_id: int = Field(foreign_key="interest_group.id", primary_key=True)
    subject: str = Field(primary_key=True, max_length=32,
                         sa_column_kwargs={"info": NAMES_PSEUDONYM})
    joined: datetime


class RatingReceipt(SQLModel, table=True):
    """That ``rater`` rated ``rated`` for ``team_id``: no aspect, no comment."""

    __tablename__ = "rating_receipt"
    team_id: int = Field(foreign_key="team.id", primary_key=True)
    rater: str = Field(primary_key=True, max_length=32,
                       sa_column_kwargs={"info": NAMES_PSEUDONYM})
    rated: str = Field(primary_key=True, max_length=32,
                       sa_column_kwargs={"info": NAMES_PSEUDONYM})
    sent: datetime


WORK_TABLE_NAMES = frozenset({
    "swipe", "team", "team_member", "team_product", "interest_group", "group_member",
    "rating_receipt",
})
