"""A holder's team: the assignment, fellow members as far as each consented to
teamwork with the holder's organisation (through the gate, logged with the holder
as actor), and the team's products: links and small files that members add and
download. Former members still see the team and its products."""

from __future__ import annotations

import base64
import secrets
from types import SimpleNamespace

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from registry import RegistryError
from registry.teams import MAX_FILE_BYTES, NAME, ProductSpec

from ..api.deps import MAX_ID, NowDep, SystemDep
from ..api.teams import file_response
from ..holder_identity import as_requester, subject_of
from .auth import Form, HolderPod
from .profile_view import shown_fields
from .refusals import FormError
from .render import lang_of, page, redirect

router = APIRouter(include_in_schema=False)


@router.get("/mijn/teams/{name}")
def team(request: Request, name: str, pod: HolderPod, system: SystemDep,
         now: NowDep) -> Response:
    return _team_page(request, name, pod, system, now)


def _team_page(request, name, pod, system, now, status=200, error=None,
               detail=None) -> Response:
    subject, teams = subject_of(system, pod), system.work.teams
    found = teams.for_member(subject, _name(name), organisation_of(request))
    view = teams.page(as_requester(system, pod, request), found, now,
                      secrets.token_hex(16), viewer_subject=subject)
    lang = lang_of(request)
    members = [{"you": m.get("you", False), "fields": shown_fields(
        system.reference, SimpleNamespace(**m), lang)} for m in view["members"]]
    return page(request, "holder_team.html", status=status, team=view,
                members=members, active=view["status"] == "active"
                and teams.membership(found.id, subject), max_kib=MAX_FILE_BYTES // 1024,
                error=error, detail=detail)


@router.post("/mijn/teams/{name}/producten")
def add_product(request: Request, name: str, form: Form, pod: HolderPod,
                system: SystemDep, now: NowDep) -> Response:
    """A link or one small file; all problems at once, and nothing is stored."""
    subject, teams = subject_of(system, pod), system.work.teams
    found = teams.for_member(subject, _name(name), organisation_of(request))
    try:
        teams.require_active_member(found, subject)
        teams.add_product(found, _spec(form), now)
    except (RegistryError, ValueError) as exc:
        return _team_page(request, name, pod, system, now, status=400,
                          error="team.product_refused", detail=exc)
    return redirect(team_path(found), "product-added")


def _spec(form) -> ProductSpec:
    title = form.get("titel")
    title = title if isinstance(title, str) else ""
    url = form.get("link")
    upload = form.get("bestand")
    has_file = isinstance(upload, UploadFile) and upload.filename
    if url and has_file:
        raise FormError("team.link_or_file")
    if has_file:
        content = upload.file.read(MAX_FILE_BYTES + 1)
        return ProductSpec(title, None, upload.filename, upload.content_type,
                           base64.b64encode(content).decode("ascii"))
    return ProductSpec(title, url if isinstance(url, str) and url else None)


@router.get("/mijn/teams/{name}/producten/{product_id}")
def product_file(request: Request, name: str, product_id: int, pod: HolderPod,
                 system: SystemDep) -> Response:
    teams = system.work.teams
    found = teams.for_member(subject_of(system, pod), _name(name),
                             organisation_of(request))
    file_name, media_type, content = teams.product_file(
        found, product_id if 1 <= product_id <= MAX_ID else 0)
    return file_response(file_name, media_type, content)


def team_path(team) -> str:
    """A team's page: the name with its organisation, as two organisations may use
    one name and a holder may be in both teams."""
    return f"/mijn/teams/{team.name}?organisatie={team.organisation}"


def organisation_of(request: Request) -> str | None:
    """The ``organisatie`` of a team's address; None (any) when absent, and one
    that is no organisation code names no team."""
    code = request.query_params.get("organisatie")
    if code is None:
        return None
    return code if len(code) <= 40 and code.isalnum() else ""


def _name(name: str) -> str:
    """A team name as the registry makes them; anything else names no team."""
    return name if len(name) <= 120 and NAME.fullmatch(name) else ""
