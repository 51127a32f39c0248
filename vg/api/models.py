"""Request and response bodies. Separate models per direction, so that a secret
(a passphrase, a key) can never reach a response."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from registry.assignments import MAX_SKILLS as MAX_ASSIGNMENT_SKILLS

from .deps import SESSION_PREFIX
from .strict import Day, Moment, Strict


# One name in a list: a purpose, a field, a skill URI, a member, a kind.
Name = Annotated[str, Field(max_length=200)]


# A passphrase is never shown, and one a pod was made with must open it for ever:
# its characters are the holder's, line breaks too.
PASSPHRASE = frozenset({"passphrase"})


class PodCreate(Strict):
    MULTI_LINE = PASSPHRASE
    passphrase: str = Field(min_length=1, max_length=1024)


class SessionCreate(Strict):
    MULTI_LINE = PASSPHRASE
    did: str = Field(min_length=10, max_length=80)
    passphrase: str = Field(min_length=1, max_length=1024)


class SessionOut(BaseModel):
    did: str
    podId: str
    session: str
    expires: datetime

    @classmethod
    def issued(cls, system, did: str, passkey: bytes, now: datetime) -> "SessionOut":
        """A new session of the pod, with the id its addresses use."""
        token = SESSION_PREFIX + system.sessions.issue(did, passkey, now)
        return cls(did=did, podId=system.pods.pod_id(did), session=token,
                   expires=now + system.sessions.lifetime)


class ImportedOut(SessionOut):
    published: int
    notPublished: list[dict[str, str]] = Field(
        default_factory=list,
        description="grants the registry did not take after the import, with the code")


class GrantCreate(Strict):
    audience: dict[str, Any]
    purposes: list[Name] = Field(min_length=1, max_length=10)
    fields: list[Name] = Field(min_length=1, max_length=50)
    validUntil: Moment
    validFrom: Moment | None = None


class GrantOut(BaseModel):
    id: str
    audience: dict[str, Any]
    purposes: list[str]
    fields: list[str]
    validFrom: str
    validUntil: str
    created: str
    withdrawn: str | None
    withdrawalPending: bool
    # A withdrawal the registry has not taken yet: its audience may still see the
    # fields; it is sent again whenever the pod is open.
    stillDisclosed: bool
    # A new grant whose first disclosure the registry has not confirmed yet: it is
    # not live, and it can be withdrawn like any other.
    publicationPending: bool = False
    suspended: bool
    live: bool
    # The grant this one renews, and the grant that renewed this one and took
    # over from it (set once this grant ended by that renewal).
    renews: str | None = None
    renewedBy: str | None = None


class WithdrawnOut(GrantOut):
    # The renewals of the grant that this withdrawal ended too: the consent is
    # withdrawn, not only this grant of it.
    withdrawnWith: list[str] = Field(default_factory=list)


class SavedOut(BaseModel):
    version: int
    published: int
    notPublished: list[dict[str, str]] = Field(
        default_factory=list,
        description="grants the registry did not take after the save, with the code")


class VersionOut(BaseModel):
    version: int
    saved: str
    # The newest version, saved but not yet taken by the registry under every
    # grant (it may still disclose an older one): published again whenever the
    # pod is opened.
    publicationPending: bool = False


class OptionalSkill(Strict):
    skill: str = Field(max_length=200)
    weight: int = Field(default=1, ge=1, le=3)


NOT_RANKED = ("one of the HR21 function families; describes the assignment and is "
              "stored, but does not rank or filter candidates (no points, no reason)")


class AssignmentCreate(Strict):
    MULTI_LINE = frozenset({"description"})
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5000)
    requiredSkills: list[Name] = Field(min_length=1, max_length=MAX_ASSIGNMENT_SKILLS)
    optionalSkills: list[Name | OptionalSkill] = Field(
        default_factory=list, max_length=MAX_ASSIGNMENT_SKILLS)
    functionFamily: str | None = Field(default=None, max_length=40,
                                       description=NOT_RANKED)
    fieldOfWork: str | None = Field(default=None, max_length=40,
                                    description=NOT_RANKED)
    levelMin: int | None = Field(default=None, ge=1, le=5)
    levelMax: int | None = Field(default=None, ge=1, le=5)
    hoursPerWeek: int | None = Field(default=None, ge=1, le=40)
    periodStart: Day | None = None
    periodEnd: Day | None = None
    location: str | None = Field(default=None, max_length=10)
    remote: bool = False
    circle: Literal["own", "neighbours", "province", "corop", "safety_region",
                    "municipalities", "sector", "national"] = "national"
    circleSector: str | None = Field(default=None, max_length=40)
    freelancers: bool = True
    status: Literal["draft", "open"] = "open"


class AssignmentAction(Strict):
    action: Literal["open", "pause", "fill", "close"]


class EmployeeCreate(Strict):
    did: str = Field(min_length=1, max_length=80)


class PassCreate(Strict):
    # The name the organisation knows the candidate by (registry/org_pseudonyms.py).
    subject: str = Field(min_length=1, max_length=64)


class CandidateOut(BaseModel):
    subject: str
    score: int
    reasons: list[dict[str, Any]]
    fields: list[str]
    workcontext: dict[str, Any]


class CandidatesOut(BaseModel):
    assignment: int
    total: int
    candidates: list[CandidateOut]


class AcceptedOut(BaseModel):
    grant: str
    fields: list[str]


class VerifyOut(BaseModel):
    ok: bool
    size: int
    rootHash: str
    pruned: int
    checkpointsChecked: int
    firstBadIndex: int | None
    problem: str | None


class PassphraseConfirm(Strict):
    MULTI_LINE = PASSPHRASE
    passphrase: str = Field(min_length=1, max_length=1024)


class PassphraseChange(Strict):
    MULTI_LINE = frozenset({"current", "new"})  # passphrases, as in PodCreate
    current: str = Field(min_length=1, max_length=1024)
    new: str = Field(min_length=1, max_length=1024)
