"""Teams: forming, the team page, products, dissolution, and ratings afterwards."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response

from registry.errors_work import NoMatch, NotATeamMember
from registry.teams import ProductSpec, TeamRow

from ..holder_identity import as_requester, subject_of
from ..org_names import named, shown, workcontext_for
from ..wiring import System
from .bounded_json import BoundedJsonRoute
from .deps import HolderDep, NowDep, RequesterDep, SystemDep, TraceDep
from .models_work import ProductCreate, RatingCreate, TeamCreate
from .params_work import ProductId, TeamName, TeamOrganisation
from .render import json_response

router = APIRouter(tags=["teams"], route_class=BoundedJsonRoute)


def named_members(system: System, page: dict) -> dict:
    """A team page with its members named as the team's organisation knows them:
    staff and members alike see those names (and its addresses of their intro
    videos), and a rating takes them."""
    organisation = page["organisation"]
    members = [{**m, "subject": shown(system, organisation, m["subject"]),
                "workcontext": workcontext_for(system, organisation,
                                               m["workcontext"])}
               for m in page["members"]]
    return {**page, "members": sorted(members, key=lambda m: m["subject"])}


def _summary(team: TeamRow) -> dict:
    return {"name": team.name, "assignment": team.assignment_id,
            "organisation": team.organisation, "status": team.status}


def _spec(body: ProductCreate) -> ProductSpec:
    return ProductSpec(body.title, body.url, body.fileName, body.mediaType,
                       body.content)


# Media types a product is served with as stored: documents and pictures that no
# browser runs. Anything else (HTML, scripts, SVG, ...) is served as bytes, so that
# a product can never act as a page or a script of this origin, whatever its
# uploader declared.
INERT_MEDIA_TYPES = frozenset({
    "application/pdf", "text/plain", "text/csv", "image/png", "image/jpeg",
    "application/zip", "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
})


def file_response(name: str, media_type: str, content: bytes) -> Response:
    """A team product as a download, never rendered: attachment, an inert media
    type, and a sandbox that holds even if a browser opened it anyway."""
    served = media_type if media_type.lower() in INERT_MEDIA_TYPES else (
        "application/octet-stream")
    return Response(content, media_type=served, headers={
        "Content-Disposition": attachment(name),
        "Content-Security-Policy": "sandbox; default-src 'none'"})


# RFC 8187 section 3.2.1: the attr-chars besides letters and digits, which a
# parameter value carries unencoded.
_ATTR_CHARS = "!#$&+-.^_`|~"


def attachment(name: str) -> str:
    """The Content-Disposition of a download named ``name`` (RFC 6266 section
    4.3): ``filename`` in plain ASCII for clients that know no other (accents
    dropped; any other character, and the quote and backslash a quoted string
    would have to escape, as ``_``), and the name as given in ``filename*``
    (RFC 8187, UTF-8) when the two differ, which a client that knows both takes."""
    folded = unicodedata.normalize("NFKD", name)
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_"
                       for c in folded if not unicodedata.combining(c))
    header = f'attachment; filename="{fallback}"'
    if fallback != name:
        header += "; filename*=UTF-8''" + quote(name, safe=_ATTR_CHARS)
    return header


@router.post("/teams", status_code=201)
def form_team(body: TeamCreate, requester: RequesterDep, system: SystemDep,
              now: NowDep) -> Response:
    members = [named(system, requester.organisation, m,
                     lambda _: NoMatch(body.assignment)) for m in body.members]
    team = system.work.teams.form(requester, body.assignment, members, now,
                                  body.name)
    return json_response(_summary(team), status=201)


@router.get("/teams")
def find_teams(requester: RequesterDep, system: SystemDep,
               zoek: str = Query(default="", max_length=100)) -> Response:
    """The organisation's teams, dissolved ones included (for a follow-up)."""
    return json_response([_summary(t) for t in system.work.teams.find(requester, zoek)])


@router.get("/teams/{name}")
def team_page(name: TeamName, requester: RequesterDep, system: SystemDep, now: NowDep,
              trace: TraceDep) -> Response:
    teams = system.work.teams
    return json_response(named_members(system, teams.page(
        requester, teams.for_staff(requester, name), now, trace)))


@router.post("/teams/{name}/ontbinding")
def dissolve_team(name: TeamName, requester: RequesterDep, system: SystemDep,
                  now: NowDep) -> Response:
    return json_response(_summary(system.work.teams.dissolve(requester, name, now)))


@router.post("/teams/{name}/producten", status_code=201)
def add_product(name: TeamName, body: ProductCreate, requester: RequesterDep,
                system: SystemDep, now: NowDep) -> Response:
    teams = system.work.teams
    team = teams.for_staff(requester, name)
    return json_response(teams.add_product(team, _spec(body), now), status=201)


@router.get("/teams/{name}/producten/{product_id}/bestand")
def product_file(name: TeamName, product_id: ProductId, requester: RequesterDep,
                 system: SystemDep) -> Response:
    teams = system.work.teams
    return file_response(*teams.product_file(teams.for_staff(requester, name), product_id))


@router.get("/pod/teams")
def my_teams(pod: HolderDep, system: SystemDep) -> Response:
    subject = subject_of(system, pod)
    return json_response([_summary(t) for t in system.work.teams.teams_of(subject)])


@router.get("/pod/teams/{name}")
def my_team_page(request: Request, name: TeamName, pod: HolderDep, system: SystemDep,
                 now: NowDep, trace: TraceDep,
                 organisation: TeamOrganisation = None) -> Response:
    """A member sees fellow members as far as each consented to teamwork with the
    member's own organisation; the view is logged with the member as actor."""
    subject, teams = subject_of(system, pod), system.work.teams
    team = teams.for_member(subject, name, organisation)
    viewer = as_requester(system, pod, request)
    return json_response(named_members(system, teams.page(
        viewer, team, now, trace, viewer_subject=subject)))


@router.post("/pod/teams/{name}/producten", status_code=201)
def member_adds_product(name: TeamName, body: ProductCreate, pod: HolderDep,
                        system: SystemDep, now: NowDep,
                        organisation: TeamOrganisation = None) -> Response:
    subject, teams = subject_of(system, pod), system.work.teams
    team = teams.for_member(subject, name, organisation)
    teams.require_active_member(team, subject)
    return json_response(teams.add_product(team, _spec(body), now), status=201)


@router.get("/pod/teams/{name}/producten/{product_id}/bestand")
def member_reads_product(name: TeamName, product_id: ProductId, pod: HolderDep,
                         system: SystemDep,
                         organisation: TeamOrganisation = None) -> Response:
    teams = system.work.teams
    team = teams.for_member(subject_of(system, pod), name, organisation)
    return file_response(*teams.product_file(team, product_id))


@router.post("/pod/teams/{name}/beoordelingen", status_code=202)
def rate_member(name: TeamName, body: RatingCreate, pod: HolderDep, system: SystemDep,
                now: NowDep, organisation: TeamOrganisation = None) -> Response:
    """Sealed to the rated member's pod; the registry keeps no readable rating. The
    rated member is named as the team page names them."""
    subject, work = subject_of(system, pod), system.work
    team = work.teams.for_member(subject, name, organisation)
    rated = named(system, team.organisation, body.subject,
                  lambda _: NotATeamMember(team.name))
    work.ratings.rate(subject, team, rated, body.aspects, body.comment, now)
    return json_response({"team": name, "subject": body.subject,
                          "delivered": True}, status=202)
