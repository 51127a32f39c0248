"""Organisation routes: assignments, their lifecycle and their ranked candidates."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query, Response

from registry import AssignmentSpec, CandidatePage

from ..org_names import cursor_in, cursor_out, named, shown, workcontext_for
from ..wiring import System
from .bounded_json import BoundedJsonRoute
from .deps import MAX_ID, NowDep, RequesterDep, SystemDep, TraceDep, require_role
from .models import AssignmentAction, AssignmentCreate, OptionalSkill, PassCreate
from .render import json_response

router = APIRouter(tags=["organisatie"], route_class=BoundedJsonRoute)


@router.post("/opdrachten", status_code=201)
def create_assignment(body: AssignmentCreate, requester: RequesterDep,
                      system: SystemDep, now: NowDep) -> Response:
    stored = system.registry.create_assignment(requester, _spec(body), now,
                                               body.status)
    return json_response(stored.to_json(), status=201)


def _spec(body: AssignmentCreate) -> AssignmentSpec:
    optional = [o if isinstance(o, OptionalSkill) else OptionalSkill(skill=o)
                for o in body.optionalSkills]
    return AssignmentSpec(
        title=body.title, description=body.description,
        required_skills=tuple(body.requiredSkills),
        optional_skills=tuple(o.skill for o in optional),
        optional_weights={o.skill: o.weight for o in optional if o.weight != 1},
        function_family=body.functionFamily, field_of_work=body.fieldOfWork,
        level_min=body.levelMin, level_max=body.levelMax,
        hours_per_week=body.hoursPerWeek, period_start=body.periodStart,
        period_end=body.periodEnd, location=body.location, remote=body.remote,
        circle=body.circle, circle_ref=body.circleSector,
        freelancers=body.freelancers)


@router.get("/opdrachten")
def list_assignments(requester: RequesterDep, system: SystemDep,
                     limit: int = Query(default=100, ge=1, le=1000),
                     cursor: int = Query(default=0, ge=0, le=MAX_ID)) -> Response:
    """The organisation's assignments by id after ``cursor`` (the ``nextCursor`` of
    the page before)."""
    require_role(requester, "staff")
    found = system.registry.assignments.list(requester.organisation, limit + 1,
                                             cursor)
    page = found[:limit]
    return json_response({"items": [a.to_json() for a in page],
                          "nextCursor": page[-1].id if len(found) > limit else None})


@router.get("/opdrachten/{assignment_id}")
def read_assignment(requester: RequesterDep, system: SystemDep,
                    assignment_id: int = Path(ge=1, le=MAX_ID)) -> Response:
    require_role(requester, "staff")
    stored = system.registry.assignments.get(requester.organisation, assignment_id)
    return json_response(stored.to_json())


@router.post("/opdrachten/{assignment_id}/status")
def change_status(body: AssignmentAction, requester: RequesterDep, system: SystemDep,
                  now: NowDep,
                  assignment_id: int = Path(ge=1, le=MAX_ID)) -> Response:
    """Open, pause, fill or close an assignment (see registry.assignments)."""
    stored = system.registry.change_assignment(requester, assignment_id, body.action,
                                               now)
    return json_response(stored.to_json())


@router.post("/opdrachten/{assignment_id}/gepasseerd", status_code=204)
def pass_candidate(body: PassCreate, requester: RequesterDep, system: SystemDep,
                   now: NowDep,
                  assignment_id: int = Path(ge=1, le=MAX_ID)) -> Response:
    """Pass on a candidate: they no longer appear for this assignment. The same
    decision as a pass in ``keuzes`` and the page's "Niet voor mij": it replaces
    the organisation's like, so a match made on it ends."""
    subject = named(system, requester.organisation, body.subject)
    system.work.swipes.by_organisation(requester, assignment_id, subject, "pass", now)
    return Response(status_code=204)


@router.get("/opdrachten/{assignment_id}/kandidaten")
def candidates(requester: RequesterDep, system: SystemDep, now: NowDep,
               trace: TraceDep, assignment_id: int = Path(ge=1, le=MAX_ID),
               limit: int = Query(default=10, ge=1, le=100),
               cursor: str | None = Query(default=None, max_length=200)) -> Response:
    """Ranked candidates with only consented fields; each one shown is logged first
    (the response is built while the log commits, and leaves after). Candidates
    and the cursor name people as this organisation knows them."""
    organisation = requester.organisation
    return system.registry.candidates(
        requester, assignment_id, now, trace, limit,
        cursor_in(system, organisation, cursor),
        render=lambda page: candidates_response(page, system, organisation))


def candidates_response(page: CandidatePage, system: System,
                        organisation: str) -> Response:
    """The response of a page of candidates, for ``organisation``."""
    return json_response({
        "assignment": page.assignment.id,
        "total": page.total,
        "nextCursor": cursor_out(system, organisation, page.next_cursor),
        "candidates": [
            {"subject": shown(system, organisation, r.profile.pseudonym),
             "score": r.score,
             "reasons": list(r.reasons), "fields": sorted(r.profile.fields),
             "workcontext": workcontext_for(
                 system, organisation, _without_identity(r.profile.workcontext))}
            for r in page.candidates
        ],
    })


def _without_identity(document: dict) -> dict:
    """The holder's did:key is a global identifier no grant covers: organisations
    know a candidate by their own pseudonym only (GDPR art. 5(1)(c))."""
    return {k: v for k, v in document.items() if k != "id"}
