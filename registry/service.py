"""The registry as one object: the parts wired together for the API and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from audit import AuditLog

from .access import Access
from .assignments import Assignments, AssignmentSpec, StoredAssignment
from .errors import Forbidden
from .gate import ConsentGate, Requester
from .ingest import Accepted, Ingest
from .matching import Ranked, rank

MATCHING = "matching"
MATCH_ACTIVITY = "https://w3id.org/virtuele-gemeente/register#matching-v1"


@dataclass(frozen=True, slots=True)
class CandidatePage:
    assignment: StoredAssignment
    candidates: list[Ranked]
    total: int


class Registry:
    def __init__(self, engine: Engine, reference, audit: AuditLog,
                 pseudonym_secret: bytes):
        tooi = {o.tooi_uri: code for code, o in reference.organisations.items()}
        self.engine = engine
        self.reference = reference
        self.access = Access(engine)
        self.ingest = Ingest(engine, reference, tooi, pseudonym_secret)
        self.gate = ConsentGate(engine, reference, audit)
        self.assignments = Assignments(engine, reference.has_skill)

    def receive_disclosure(self, document: Any, now: datetime) -> Accepted:
        return self.ingest.disclosure(document, now)

    def receive_withdrawal(self, document: Any, now: datetime) -> str:
        return self.ingest.withdrawal(document, now)

    def create_assignment(self, requester: Requester, spec: AssignmentSpec,
                          now: datetime) -> StoredAssignment:
        _require_staff(requester, "create assignments")
        return self.assignments.create(requester.organisation, spec, now)

    def candidates(self, requester: Requester, assignment_id: int, now: datetime,
                   trace_id: str, limit: int = 10) -> CandidatePage:
        """Ranked candidates; the ones returned are logged before they are returned."""
        _require_staff(requester, "view candidates")
        assignment = self.assignments.get(requester.organisation, assignment_id)
        skills = (*assignment.spec.required_skills, *assignment.spec.optional_skills)
        profiles = self.gate.visible(requester, MATCHING, now, any_of_skills=skills)
        ranked = rank(assignment, profiles, self.reference)
        page = ranked[: max(1, min(limit, 100))]
        self.gate.disclose(requester, MATCHING, [r.profile for r in page], now,
                           trace_id, MATCH_ACTIVITY,
                           reason=f"candidate for assignment {assignment.id}")
        return CandidatePage(assignment, page, len(ranked))


def _require_staff(requester: Requester, action: str) -> None:
    if requester.role != "staff":
        raise Forbidden(action)
