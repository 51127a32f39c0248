"""Tables for what organisations declare about consent: employer policies on
audiences, each organisation's own legal basis per purpose, and the notices that
tell a holder a policy change suspended one of their grants (and when a later one
lifted the suspension).

None of these tables holds a field value. A notice names a holder (by did) and a
grant, and is read only by that holder.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel

from .holder_columns import NAMES_DID, NAMES_PSEUDONYM


class EmployerPolicyRow(SQLModel, table=True):
    __tablename__ = "employer_policy"
    organisation: str = Field(foreign_key="organisation.code", primary_key=True,
                              max_length=40)
    policy: str  # JSON of consent.EmployerPolicy.to_json()
    updated: datetime


class LegalBasisRow(SQLModel, table=True):
    """The receiving organisation's own basis for a purpose (GDPR art. 6(1)(b) or
    (e)); the holder's grant remains the switch that allows each disclosure."""

    __tablename__ = "legal_basis"
    organisation: str = Field(foreign_key="organisation.code", primary_key=True,
                              max_length=40)
    purpose: str = Field(primary_key=True, max_length=40)
    basis: str = Field(max_length=40)
    declared: datetime


class PolicyNotice(SQLModel, table=True):
    __tablename__ = "policy_notice"
    id: Optional[int] = Field(default=None, primary_key=True)
    holder_did: str = Field(index=True, max_length=80,
                            sa_column_kwargs={"info": NAMES_DID})
    grant_id: str = Field(max_length=200)
    organisation: str = Field(max_length=40)
    reason: str = Field(max_length=500)
    created: datetime
    # When a later policy of ``organisation``, or the end of the holder's
    # employment there, lifted the suspension (None: not lifted, or a
    # retraction, which nothing lifts).
    lifted: Optional[datetime] = None


POLICY_TABLE_NAMES = ("employer_policy", "legal_basis", "policy_notice")


class EmploymentRow(SQLModel, table=True):
    """An organisation's statement that a holder (by pseudonym) works there. A holder
    acting as a requester (peer search, interest groups, team pages) counts as a
    member of the organisation their Workcontext names only while that organisation
    attests it: an audience of one organisation is never reached by a self-claim."""

    __tablename__ = "employment"
    organisation: str = Field(foreign_key="organisation.code", primary_key=True,
                              max_length=40)
    subject: str = Field(primary_key=True, max_length=32,
                         sa_column_kwargs={"info": NAMES_PSEUDONYM})
    attested: datetime
