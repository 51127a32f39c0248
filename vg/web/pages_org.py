"""The project leader's pages: assignments with the skill picker and a circle on
the map, candidate cards with only consented fields and the reasons for the match,
likes and passes, matches, contact after a match, teams and their dissolution.

Every candidate shown comes from ``Registry.candidates``: the consent gate decides
what is visible and the audit log records it before the page is sent."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from registry import AssignmentNotFound, AssignmentSpec, RegistryError
from registry.assignments import MAX_SKILLS as MAX_ASSIGNMENT_SKILLS
from registry.errors_work import NoMatch
from schemas import SchemaError

from ..api.deps import MAX_ID, NowDep, SystemDep
from ..org_names import cursor_in, cursor_out, named, shown
from . import mapsvg, skills
from .form_values import action as button
from .form_values import (
    checkbox,
    iso_date,
    one_of,
    optional_text,
    required_id,
    required_text,
    texts,
    whole_number,
)
from .pages_org_video import card_video
from .profile_view import shown_fields
from .refusals import FormError
from .auth import Form, Organisation
from .render import lang_of, page, redirect

router = APIRouter(include_in_schema=False)
CIRCLES = ("own", "neighbours", "province", "corop", "safety_region",
           "municipalities", "national")
INPUT_ERRORS = (RegistryError, SchemaError, ValueError)
DECISIONS = ("like", "pass")


@router.get("/organisatie")
def assignments(request: Request, requester: Organisation,
                system: SystemDep) -> Response:
    if requester.role != "staff":
        return redirect("/fg")
    items = [a.to_json() for a in system.registry.assignments.list(
        requester.organisation)]
    return page(request, "org_assignments.html", items=items,
                organisation=_name(system, requester.organisation))


# -- a new assignment -----------------------------------------------------------------

@router.get("/organisatie/opdrachten/nieuw")
def new_assignment(request: Request, requester: Organisation,
                   system: SystemDep) -> Response:
    return _assignment_form(request, system, requester, _blank(system, requester))


def _blank(system, requester) -> dict:
    return {"title": "", "description": "", "required": [], "optional": [],
            "level_min": "", "level_max": "", "hours": "", "start": "", "end": "",
            "location": requester.organisation if requester.organisation in
            system.reference.municipalities else "", "circle": "neighbours",
            "freelancers": True, "remote": False, "zoek_vereist": "",
            "zoek_wenselijk": ""}


@router.post("/organisatie/opdrachten/nieuw")
def create_assignment(request: Request, form: Form, requester: Organisation,
                      system: SystemDep, now: NowDep) -> Response:
    """Buttons: search either skill list, show the circle on the map, or save."""
    lang = lang_of(request)
    try:
        action = button(form.get("actie"), ("opslaan", "zoeken", "kaart"), "opslaan")
        values = _form_values(form)
    except FormError as exc:
        # What was sent can not be shown back whole: the form starts again.
        return _assignment_form(request, system, requester, _blank(system, requester),
                                status=400, error="form.invalid", detail=exc)
    if action == "zoeken":
        return _assignment_form(request, system, requester, values, results={
            "required": skills.search(system.reference, values["zoek_vereist"], lang),
            "optional": skills.search(system.reference, values["zoek_wenselijk"],
                                      lang)})
    if action == "kaart":
        return _assignment_form(request, system, requester, values)
    try:
        stored = system.registry.create_assignment(requester, _spec(system, values),
                                                   now, "open")
    except INPUT_ERRORS as exc:
        return _assignment_form(request, system, requester, values, status=400,
                                error="form.invalid", detail=exc)
    return redirect(f"/organisatie/opdrachten/{stored.id}", "assignment-created")


def _assignment_form(request, system, requester, values, status=200, results=None,
                     error=None, detail=None) -> Response:
    lang = lang_of(request)
    results = results or {"required": [], "optional": []}
    municipalities = sorted(((m.name, code) for code, m in
                             system.reference.municipalities.items()),
                            key=lambda pair: pair[0].casefold())
    reached = _reached(system, requester, values["location"], values["circle"])
    return page(
        request, "org_new.html", status=status, values=values,
        required=skills.chosen(system.reference, values["required"], lang),
        optional=skills.chosen(system.reference, values["optional"], lang),
        results_required=[r for r in results["required"]
                          if r["uri"] not in values["required"]],
        results_optional=[r for r in results["optional"]
                          if r["uri"] not in values["optional"]],
        municipalities=municipalities, circles=CIRCLES, error=error, detail=detail,
        reached_names=sorted(system.reference.municipalities[c].name
                             for c in (reached or ())),
        map=_map(system, requester, values["location"], values["circle"], lang))


def _reached(system, requester, location: str, circle: str) -> frozenset[str] | None:
    spec = AssignmentSpec("", "", (), location=location or None,
                          circle=circle if circle in CIRCLES else "national")
    members = system.registry.circles.members(spec, requester.organisation)
    if members is None:
        return None
    return frozenset(members) & frozenset(system.reference.municipalities)


def _map(system, requester, location: str, circle: str, lang: str):
    reached = _reached(system, requester, location, circle)
    count = len(system.reference.municipalities) if reached is None else len(reached)
    place = system.reference.municipalities.get(location)
    label = (f"Kaart: {count} gemeenten in de zoekcirkel" if lang == "nl" else
             f"Map: {count} municipalities in the search circle")
    if place:
        label += (f" rond {place.name}" if lang == "nl" else f" around {place.name}")
    return mapsvg.render(system.settings.reference_dir, reached,
                         location or None, label)


@router.get("/organisatie/kaart")
def map_fragment(request: Request, requester: Organisation, system: SystemDep,
                 plaats: str = Query(default="", max_length=10),
                 kring: str = Query(default="national", max_length=20)) -> Response:
    """The map alone, for the page's script to redraw it when the place or the
    circle changes (the same map the page draws without script)."""
    svg = _map(system, requester, plaats, kring, lang_of(request))
    return Response(str(svg), media_type="image/svg+xml")


# Each text field: its name, the key of its label, and the most characters it takes.
ASSIGNMENT_FIELDS = {
    "title": ("titel", "assignment.title", 200),
    "description": ("omschrijving", "assignment.description", 5000),
    "level_min": ("niveau_van", "assignment.level_from", 1),
    "level_max": ("niveau_tot", "assignment.level_to", 1),
    "hours": ("uren", "assignment.hours", 2),
    "start": ("van", "workcontext.from", 10),
    "end": ("tot", "workcontext.until", 10),
    "location": ("plaats", "assignment.location", 10),
    "circle": ("kring", "assignment.circle", 20),
    "zoek_vereist": ("zoek_vereist", "skills.search", 100),
    "zoek_wenselijk": ("zoek_wenselijk", "skills.search", 100),
}
MAX_TEAM_VALUES = 50  # members named on the team form
MAX_TEAM_NAME = 80  # registry.teams: a team's name has 3 to 80 characters


def _form_values(form) -> dict:
    """The form's values as sent; one too long is refused (FormError), never cut."""
    values = {key: optional_text(form.get(name), label, limit)
              for key, (name, label, limit) in ASSIGNMENT_FIELDS.items()}
    values["required"] = skills.from_form(form, "vereist", MAX_ASSIGNMENT_SKILLS)
    values["optional"] = skills.from_form(form, "wenselijk", MAX_ASSIGNMENT_SKILLS)
    values["freelancers"] = checkbox(form.get("zzp"), "assignment.freelancers")
    values["remote"] = checkbox(form.get("op_afstand"), "assignment.remote")
    return values


def _spec(system, values: dict) -> AssignmentSpec:
    if values["circle"] not in CIRCLES:
        raise FormError("assignment.circle_choice")
    return AssignmentSpec(
        title=values["title"], description=values["description"],
        required_skills=tuple(skills.to_store(system.reference, values["required"],
                                              MAX_ASSIGNMENT_SKILLS)),
        optional_skills=tuple(skills.to_store(system.reference, values["optional"],
                                              MAX_ASSIGNMENT_SKILLS)),
        level_min=whole_number(values["level_min"], "assignment.level_from"),
        level_max=whole_number(values["level_max"], "assignment.level_to"),
        hours_per_week=whole_number(values["hours"], "assignment.hours"),
        period_start=iso_date(values["start"], "workcontext.from"),
        period_end=iso_date(values["end"], "workcontext.until"),
        location=values["location"] or None, remote=values["remote"],
        circle=values["circle"], freelancers=values["freelancers"])


# -- candidates -----------------------------------------------------------------------

@router.get("/organisatie/opdrachten/{assignment_id}")
def candidates(request: Request, assignment_id: int, requester: Organisation,
               system: SystemDep, now: NowDep) -> Response:
    return _candidate_page(request, system, requester, _checked(assignment_id), now,
                           None)


@router.post("/organisatie/opdrachten/{assignment_id}/keuze")
def decide(request: Request, assignment_id: int, form: Form, requester: Organisation,
           system: SystemDep, now: NowDep) -> Response:
    """Like or pass, then the next card. The card's place in the ranking travels in
    the form body, never in the address (it names a pseudonym). Both name the
    candidate as the organisation knows them (vg/org_names.py)."""
    assignment_id = _checked(assignment_id)
    organisation = requester.organisation
    subject, decision = form.get("kandidaat"), form.get("keuze")
    cursor = form.get("verder")
    cursor = cursor if isinstance(cursor, str) and 0 < len(cursor) <= 200 else None
    # A bad cursor is refused before anything is decided.
    cursor = cursor_in(system, organisation, cursor)
    subject = named(system, organisation,
                    required_text(subject, "form.candidate", 64))
    decision = one_of(decision, DECISIONS, "form.decision")
    system.work.swipes.by_organisation(requester, assignment_id, subject, decision,
                                       now)  # a pass also leaves them out of the list
    matched = system.work.swipes.is_match(assignment_id, subject, now)
    return _candidate_page(request, system, requester, assignment_id, now, cursor,
                           "match" if matched else decision)


def _candidate_page(request, system, requester, assignment_id: int, now, cursor,
                    notice=None) -> Response:
    trace, organisation = secrets.token_hex(16), requester.organisation
    result = system.registry.candidates(requester, assignment_id, now, trace, 1,
                                        cursor)
    lang = lang_of(request)
    decided = system.work.swipes.decisions_of_organisation(requester, assignment_id)
    card = None
    if result.candidates:
        ranked = result.candidates[0]
        card = _candidate(system, organisation, ranked, lang)
        card["decided"] = decided.get(ranked.profile.pseudonym)
    return page(request, "org_candidates.html", assignment=result.assignment.to_json(),
                card=card, total=result.total,
                next_cursor=cursor_out(system, organisation, result.next_cursor),
                matches=_matches(system, requester, assignment_id, now),
                flash=notice)


def _matches(system, requester, assignment_id: int, now) -> list[str]:
    """The matches of an assignment by the organisation's names, in their order."""
    return sorted(shown(system, requester.organisation, s)
                  for s in system.work.swipes.matches(requester, assignment_id, now))


def _candidate(system, organisation: str, ranked, lang: str) -> dict:
    """Only what the gate returned: the consented fields, in words."""
    reference = system.reference
    return {"subject": shown(system, organisation, ranked.profile.pseudonym),
            "score": ranked.score,
            "reasons": list(ranked.reasons),
            "fields": shown_fields(reference, ranked.profile, lang),
            "video": card_video(system, organisation, ranked.profile)}


# -- matches, contact, teams -------------------------------------------------------

@router.post("/organisatie/opdrachten/{assignment_id}/contact")
def contact(request: Request, assignment_id: int, form: Form, requester: Organisation,
            system: SystemDep, now: NowDep) -> Response:
    """Contact details after a match, under a contact grant; logged first."""
    assignment_id = _checked(assignment_id)
    subject = named(system, requester.organisation,
                    required_text(form.get("kandidaat"), "form.candidate", 64))
    profile = system.work.swipes.contact(requester, assignment_id, subject, now,
                                         secrets.token_hex(16))
    return page(request, "org_contact.html", assignment_id=assignment_id,
                fields=shown_fields(system.reference, profile, lang_of(request)))


@router.get("/organisatie/teams")
def teams(request: Request, requester: Organisation, system: SystemDep,
          now: NowDep, zoek: str = Query(default="", max_length=100)) -> Response:
    """The organisation's teams, those whose name or assignment holds ``zoek``."""
    found = system.work.teams.find(requester, zoek.strip())
    own = [a.to_json() for a in system.registry.assignments.list(
        requester.organisation)]
    with_matches = [(a, _matches(system, requester, a["id"], now)) for a in own]
    return page(request, "org_teams.html", teams=found, search=zoek,
                candidates=[(a, m) for a, m in with_matches if m])


@router.post("/organisatie/teams")
def form_team(request: Request, form: Form, requester: Organisation,
              system: SystemDep, now: NowDep) -> Response:
    assignment_id = required_id(form.get("opdracht"), "form.assignment")
    members = [named(system, requester.organisation, m,
                     lambda _: NoMatch(assignment_id))
               for m in texts(form, "lid", "form.member", MAX_TEAM_VALUES)]
    name = optional_text(form.get("naam"), "form.team", MAX_TEAM_NAME)
    system.work.teams.form(requester, assignment_id, members, now, name or None)
    return redirect("/organisatie/teams", "team-formed")


@router.post("/organisatie/teams/ontbinden")
def dissolve(request: Request, form: Form, requester: Organisation,
             system: SystemDep, now: NowDep) -> Response:
    name = required_text(form.get("team"), "form.team", MAX_TEAM_NAME)
    system.work.teams.dissolve(requester, name, now)
    return redirect("/organisatie/teams", "team-dissolved")


def _checked(assignment_id: int) -> int:
    if not 0 < assignment_id <= MAX_ID:
        raise AssignmentNotFound(assignment_id)
    return assignment_id


def _name(system, code: str) -> str:
    organisation = system.reference.organisations.get(code)
    return organisation.name if organisation else code
