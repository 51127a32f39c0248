"""Swipes on both sides, matches, and contact details after a match."""

from __future__ import annotations

from fastapi import APIRouter, Response

from registry.peers import profile_json

from ..holder_identity import subject_of
from ..org_names import named, shown, subject_json
from .bounded_json import BoundedJsonRoute
from .deps import HolderDep, NowDep, RequesterDep, SystemDep, TraceDep
from .models_work import SwipeIn
from .params_work import AssignmentId, Subject
from .render import json_response

router = APIRouter(tags=["matches"], route_class=BoundedJsonRoute)


@router.put("/opdrachten/{assignment_id}/keuzes/{subject}")
def organisation_swipe(assignment_id: AssignmentId, subject: Subject, body: SwipeIn,
                       requester: RequesterDep, system: SystemDep,
                       now: NowDep) -> Response:
    """A project leader likes or passes a candidate (a person decides, GDPR art. 22)."""
    work, name = system.work, subject.lower()
    subject = named(system, requester.organisation, name)
    work.swipes.by_organisation(requester, assignment_id, subject, body.decision, now)
    return json_response({"assignment": assignment_id, "subject": name,
                          "decision": body.decision,
                          "match": work.swipes.is_match(assignment_id, subject, now)})


@router.delete("/opdrachten/{assignment_id}/keuzes/{subject}", status_code=204)
def organisation_undo(assignment_id: AssignmentId, subject: Subject,
                      requester: RequesterDep,
                      system: SystemDep) -> Response:
    system.work.swipes.undo_by_organisation(
        requester, assignment_id, named(system, requester.organisation, subject))
    return Response(status_code=204)


@router.get("/opdrachten/{assignment_id}/matches")
def organisation_matches(assignment_id: AssignmentId, requester: RequesterDep,
                         system: SystemDep, now: NowDep) -> Response:
    subjects = system.work.swipes.matches(requester, assignment_id, now)
    # In the order of the organisation's names: the registry's order would be
    # the same for every organisation, a thread to join their lists on.
    return json_response({"assignment": assignment_id, "subjects": sorted(
        shown(system, requester.organisation, s) for s in subjects)})


@router.get("/opdrachten/{assignment_id}/matches/{subject}/contactgegevens")
def contact_details(assignment_id: AssignmentId, subject: Subject,
                    requester: RequesterDep,
                    system: SystemDep, now: NowDep, trace: TraceDep) -> Response:
    """Only after a match and under a grant for purpose contact; logged first."""
    organisation = requester.organisation
    profile = system.work.swipes.contact(requester, assignment_id,
                                         named(system, organisation, subject), now,
                                         trace)
    return json_response(subject_json(system, organisation, profile_json(profile)))


@router.put("/pod/opdrachtkeuzes/{assignment_id}")
def holder_swipe(assignment_id: AssignmentId, body: SwipeIn, pod: HolderDep,
                 system: SystemDep, now: NowDep) -> Response:
    subject = subject_of(system, pod)
    work = system.work
    work.swipes.by_holder(subject, assignment_id, body.decision, now)
    return json_response({"assignment": assignment_id, "decision": body.decision,
                          "match": work.swipes.is_match(assignment_id, subject, now)})


@router.delete("/pod/opdrachtkeuzes/{assignment_id}", status_code=204)
def holder_undo(assignment_id: AssignmentId, pod: HolderDep,
                system: SystemDep) -> Response:
    system.work.swipes.undo_by_holder(subject_of(system, pod), assignment_id)
    return Response(status_code=204)


@router.get("/pod/matches")
def holder_matches(pod: HolderDep, system: SystemDep, now: NowDep) -> Response:
    found = system.work.swipes.matches_of_holder(subject_of(system, pod), now)
    return json_response([a.to_json() for a in found])
