"""Interest groups and peer search: holders as requesters, through the same gate and
the same audit log as organisations (purpose knowledge_sharing).

A holder looks on behalf of the organisation the gate and the log name as the
requester (their attested employer), and is shown each colleague by the name that
organisation knows them by (vg/org_names.py): two holders of different
organisations can not join what each was shown. A holder without an attested
employer (``freelance``) looks on behalf of no organisation and is shown nobody
(registry/peers.py)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from .models import Name

from registry import Requester, VisibleProfile
from registry.peers import GROUP_PAGE, GroupRow, profile_json
from registry.peers import MAX_SKILLS as MAX_SEARCH_SKILLS

from ..holder_identity import as_requester, subject_of
from ..org_names import subject_json
from ..wiring import System
from .bounded_json import BoundedJsonRoute
from .deps import HolderDep, NowDep, SystemDep, TraceDep
from .models_work import GroupCreate
from .params_work import Slug
from .render import json_response

router = APIRouter(tags=["kennisdeling"], route_class=BoundedJsonRoute)
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"  # registry.peers.SLUG, as the schema says it


def _colleague(system: System, viewer: Requester, profile: VisibleProfile) -> dict:
    return subject_json(system, viewer.organisation, profile_json(profile))


def _group(row: GroupRow) -> dict:
    return {"slug": row.slug, "name": row.name, "theme": row.theme,
            "members": row.members}


@router.get("/groepen")
def list_groups(_pod: HolderDep, system: SystemDep,
                limit: int = Query(default=100, ge=1, le=GROUP_PAGE),
                cursor: str | None = Query(default=None, min_length=3, max_length=80,
                                           pattern=SLUG_PATTERN)) -> Response:
    """Groups by slug after ``cursor`` (the ``nextCursor`` of the page before)."""
    found = system.work.peers.groups(limit + 1, cursor)
    page = found[:limit]
    more = len(found) > limit
    return json_response({"items": [_group(g) for g in page],
                          "nextCursor": page[-1].slug if more else None})


@router.post("/groepen", status_code=201)
def create_group(body: GroupCreate, pod: HolderDep, system: SystemDep,
                 now: NowDep) -> Response:
    row = system.work.peers.create_group(body.slug, body.name, body.theme,
                                         subject_of(system, pod), now)
    return json_response(_group(row), status=201)


@router.put("/groepen/{slug}/lidmaatschap")
def join_group(slug: Slug, pod: HolderDep, system: SystemDep, now: NowDep) -> Response:
    peers = system.work.peers
    peers.join(slug, subject_of(system, pod), now)
    return json_response(_group(peers.group(slug)))


@router.delete("/groepen/{slug}/lidmaatschap", status_code=204)
def leave_group(slug: Slug, pod: HolderDep, system: SystemDep) -> Response:
    system.work.peers.leave(slug, subject_of(system, pod))
    return Response(status_code=204)


@router.get("/groepen/{slug}/suggesties")
def group_suggestions(request: Request, slug: Slug, pod: HolderDep, system: SystemDep,
                      now: NowDep, trace: TraceDep) -> Response:
    """Fellow members who consented to knowledge sharing with my organisation."""
    viewer = as_requester(system, pod, request)
    found = system.work.peers.suggestions(viewer, slug, now, trace)
    shown = [_colleague(system, viewer, p) for p in found]
    return json_response(sorted(shown, key=lambda p: p["subject"]))


@router.get("/collegas")
def peer_search(request: Request, pod: HolderDep, system: SystemDep, now: NowDep,
                trace: TraceDep,
                vaardigheid: list[Name] = Query(min_length=1, max_length=MAX_SEARCH_SKILLS),
                limit: int = Query(default=20, ge=1, le=100)) -> Response:
    """Colleagues with a skill, among those who consented to knowledge sharing."""
    viewer = as_requester(system, pod, request)
    found = system.work.peers.search(viewer, vaardigheid, now, trace, limit)
    return json_response([{**_colleague(system, viewer, p), "matchedSkills": skills}
                          for p, skills in found])
