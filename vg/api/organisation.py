"""Organisation routes: assignments and their ranked candidates."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query, Response

from registry import AssignmentSpec

from .deps import MAX_ID, NowDep, RequesterDep, SystemDep, TraceDep, require_role
from .models import AssignmentCreate
from .render import json_response

router = APIRouter(tags=["organisatie"])


@router.post("/opdrachten", status_code=201)
def create_assignment(body: AssignmentCreate, requester: RequesterDep,
                      system: SystemDep, now: NowDep) -> Response:
    spec = AssignmentSpec(
        title=body.title, description=body.description,
        required_skills=tuple(body.requiredSkills),
        optional_skills=tuple(body.optionalSkills), level_min=body.levelMin,
        level_max=body.levelMax, hours_per_week=body.hoursPerWeek, circle=body.circle)
    stored = system.registry.create_assignment(requester, spec, now)
    return json_response(stored.to_json(), status=201)


@router.get("/opdrachten")
def list_assignments(requester: RequesterDep, system: SystemDep) -> Response:
    require_role(requester, "staff")
    items = system.registry.assignments.list(requester.organisation)
    return json_response([a.to_json() for a in items])


@router.get("/opdrachten/{assignment_id}")
def read_assignment(requester: RequesterDep, system: SystemDep,
                    assignment_id: int = Path(ge=1, le=MAX_ID)) -> Response:
    require_role(requester, "staff")
    stored = system.registry.assignments.get(requester.organisation, assignment_id)
    return json_response(stored.to_json())


@router.get("/opdrachten/{assignment_id}/kandidaten")
def candidates(requester: RequesterDep, system: SystemDep, now: NowDep,
               trace: TraceDep, assignment_id: int = Path(ge=1, le=MAX_ID),
               limit: int = Query(default=10, ge=1, le=100)) -> Response:
    """Ranked candidates with only consented fields; each one shown is logged first."""
    page = system.registry.candidates(requester, assignment_id, now, trace, limit)
    return json_response({
        "assignment": page.assignment.id,
        "total": page.total,
        "candidates": [
            {"subject": r.profile.pseudonym, "score": r.score,
             "reasons": list(r.reasons), "fields": sorted(r.profile.fields),
             "workcontext": _without_identity(r.profile.workcontext)}
            for r in page.candidates
        ],
    })


def _without_identity(document: dict) -> dict:
    """The holder's did:key is a global identifier no grant covers: organisations
    know a candidate by the registry's pseudonym only (GDPR art. 5(1)(c))."""
    return {k: v for k, v in document.items() if k != "id"}
