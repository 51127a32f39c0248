"""Knowledge sharing for the holder: colleagues by skill and interest groups, with
the holder as the requester (purpose knowledge_sharing), through the same gate and
audit log as the API. Searching and listing a group's members disclose profiles,
so they are form posts (never a prefetchable address), and the group is named in
the form body."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from starlette.responses import Response

from registry import RegistryError
from registry.peers import MAX_SKILLS as MAX_SEARCH_SKILLS
from registry.peers import in_an_organisation

from ..api.deps import NowDep, SystemDep
from ..holder_identity import as_requester, subject_of
from . import skills
from .auth import Form, HolderPod
from .form_values import action, one_of, optional_text
from .refusals import FormError
from .profile_view import shown_fields
from .render import lang_of, page, redirect

router = APIRouter(include_in_schema=False)
PATH = "/mijn/kennisdelen"
GROUP_ACTIONS = ("lid-worden", "verlaten", "leden", "aanmaken")


@router.get(PATH)
def sharing(request: Request, pod: HolderPod, system: SystemDep) -> Response:
    return _page(request, pod, system)


def _page(request, pod, system, status=200, chosen=(), results=(), found=None,
          group=None, error=None, detail=None) -> Response:
    peers = system.work.peers
    mine = peers.memberships(subject_of(system, pod))
    groups = [{"slug": g.slug, "name": g.name, "theme": g.theme, "members": g.members,
               "member": g.slug in mine} for g in peers.groups()]
    attested = in_an_organisation(as_requester(system, pod))
    return page(request, "holder_sharing.html", status=status, groups=groups,
                chosen=chosen, results=results, found=found, group=group,
                attested=attested, error=error, detail=detail)


@router.post(PATH + "/collegas")
def colleagues(request: Request, form: Form, pod: HolderPod, system: SystemDep,
               now: NowDep) -> Response:
    """Colleagues with any chosen skill who consented to knowledge sharing with the
    holder's organisation; *search* only suggests skills (works without a script)."""
    lang = lang_of(request)
    button = action(form.get("actie"), ("vinden", "zoeken"), "vinden")
    wanted = skills.from_form(form, "vaardigheid", MAX_SEARCH_SKILLS)
    chosen = skills.chosen(system.reference, wanted, lang)
    if button == "zoeken":
        text = optional_text(form.get("zoek"), "skills.search", 100)
        results = skills.search(system.reference, text, lang)
        return _page(request, pod, system, chosen=chosen, results=results)
    try:
        uris = skills.to_store(system.reference, wanted, MAX_SEARCH_SKILLS)
        if not uris:
            raise FormError("form.required", field="form.skills")
        found = system.work.peers.search(as_requester(system, pod), uris, now,
                                         secrets.token_hex(16))
    except (RegistryError, ValueError) as exc:
        return _page(request, pod, system, status=400, chosen=chosen,
                     error="sharing.not_searched", detail=exc)
    cards = [{"fields": shown_fields(system.reference, p, lang),
              "matched": [skills.label(system.reference, u, lang) for u in matched]}
             for p, matched in found]
    return _page(request, pod, system, chosen=chosen, found=cards)


@router.post(PATH + "/groep")
def group_action(request: Request, form: Form, pod: HolderPod, system: SystemDep,
                 now: NowDep) -> Response:
    """Join, leave, or list the fellow members who share knowledge with me."""
    peers = system.work.peers
    action = one_of(form.get("actie"), GROUP_ACTIONS, "form.action")
    slug = _text(form.get("groep"))
    try:
        if action == "lid-worden":
            peers.join(slug, subject_of(system, pod), now)
            return redirect(PATH, "group-joined")
        if action == "verlaten":
            peers.leave(slug, subject_of(system, pod))
            return redirect(PATH, "group-left")
        if action == "leden":
            found = peers.suggestions(as_requester(system, pod), slug, now,
                                      secrets.token_hex(16))
            lang = lang_of(request)
            cards = [{"fields": shown_fields(system.reference, p, lang), "matched": []}
                     for p in found]
            return _page(request, pod, system, found=cards, group=peers.group(slug).name)
        peers.create_group(_text(form.get("slug")), _text(form.get("naam")),
                           _text(form.get("thema")), subject_of(system, pod), now)
        return redirect(PATH, "group-created")
    except RegistryError as exc:
        return _page(request, pod, system, status=exc.status, error="sharing.refused",
                     detail=exc)


def _text(value) -> str:
    """A form text as given (the body is bounded; the registry checks lengths)."""
    return value.strip() if isinstance(value, str) else ""
