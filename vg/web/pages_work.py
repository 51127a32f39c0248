"""The holder's working life: fitting assignments to like or pass (one card at a
time; buttons without JavaScript, gestures and keys with it), matches and teams."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from pod import PodError
from pod.alerts import FREQUENCIES, MAX_SCORE, AlertBook, AlertSettings
from registry import AssignmentNotOffered
from registry.errors_work import NotATeamMember
from registry.ratings import ASPECTS

from .. import alert_flows
from ..api.deps import NowDep, SystemDep
from ..holder_identity import subject_of
from ..org_names import named, shown
from . import skills
from .auth import Form, HolderPod
from .form_values import (
    one_of,
    optional_text,
    record_id,
    required_id,
    required_text,
    whole_number,
)
from .refusals import FormError
from .render import lang_of, page, redirect

router = APIRouter(include_in_schema=False)
DECISIONS = ("like", "pass")


@router.get("/mijn/opdrachten")
def feed(request: Request, pod: HolderPod, system: SystemDep, now: NowDep) -> Response:
    """Alerts are matched in the pod; what the holder already decided is left out,
    and so is an assignment that is no longer open."""
    alert_flows.fetch_alerts(system, pod, now)
    decided = system.work.swipes.decisions_of_holder(subject_of(system, pod))
    cards = []
    for alert in sorted(alert_flows.alerts(pod), key=lambda a: -a["score"]):
        if alert["assignment"] in decided or len(cards) >= 20:
            continue
        try:
            assignment = system.work.swipes.open_assignment(alert["assignment"])
        except AssignmentNotOffered:
            continue
        cards.append(_card(system.reference, assignment.to_json(), alert,
                           lang_of(request)))
    return _feed_page(request, pod, cards)


def _feed_page(request, pod, cards, status=200, error=None, detail=None) -> Response:
    settings = AlertBook(pod).settings()
    return page(request, "holder_feed.html", status=status, cards=cards,
                frequencies=tuple(FREQUENCIES), frequency=settings.frequency,
                min_score=settings.min_score, error=error, detail=detail)


@router.post("/mijn/opdrachten/instellingen")
def alert_settings(request: Request, form: Form, pod: HolderPod) -> Response:
    """How often the pod fetches new assignments and from which score it keeps them
    (the matching itself stays in the pod)."""
    book = AlertBook(pod)
    try:
        frequency = one_of(form.get("frequentie"), tuple(FREQUENCIES), "feed.frequency")
        score = whole_number(_text(form.get("drempel")), "feed.min_score")
        if score is not None and score > MAX_SCORE:
            raise FormError("form.int_range", field="feed.min_score", low="0",
                            high=str(MAX_SCORE))
        book.set_settings(AlertSettings(frequency, book.settings().min_score
                                        if score is None else score))
    except (PodError, ValueError) as exc:
        return _feed_page(request, pod, [], status=400, error="feed.not_saved",
                          detail=exc)
    return redirect("/mijn/opdrachten", "alert-settings")


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _card(reference, item: dict, alert: dict, lang: str) -> dict:
    organisation = reference.organisations.get(item["organisation"])
    return {"id": item["id"], "title": item["title"],
            "description": item["description"],
            "organisation": organisation.name if organisation else item["organisation"],
            "skills": [skills.label(reference, uri, lang)
                       for uri in item["requiredSkills"]],
            "hours": item["hoursPerWeek"], "levelMin": item["levelMin"],
            "levelMax": item["levelMax"], "start": item["periodStart"],
            "end": item["periodEnd"], "score": alert["score"],
            "reasons": alert["reasons"], "remote": item["remote"]}


@router.post("/mijn/opdrachten/keuze")
def decide(request: Request, form: Form, pod: HolderPod, system: SystemDep,
           now: NowDep) -> Response:
    decision = one_of(form.get("keuze"), DECISIONS, "form.decision")
    assignment_id = required_id(form.get("opdracht"), "form.assignment")
    subject = subject_of(system, pod)
    system.work.swipes.by_holder(subject, assignment_id, decision, now)
    matched = system.work.swipes.is_match(assignment_id, subject, now)
    return redirect("/mijn/opdrachten", "match" if matched else decision)


@router.get("/mijn/matches")
def matches(request: Request, pod: HolderPod, system: SystemDep,
            now: NowDep) -> Response:
    subject = subject_of(system, pod)
    found = system.work.swipes.matches_of_holder(subject, now)
    lang = lang_of(request)
    assignments = [_card(system.reference, a.to_json(), {"score": None, "reasons": []},
                         lang) for a in found]
    teams = system.work.teams
    # Fellow members as the team's organisation knows them, as the API's team
    # page names them: the rating form sends that name back.
    mine = [(team, sorted(shown(system, team.organisation, m)
                          for m in teams.members(team.id, active_only=False)
                          if m != subject) if team.status == "dissolved" else [])
            for team in teams.teams_of(subject)]
    return page(request, "holder_matches.html", assignments=assignments, teams=mine,
                aspects=ASPECTS)


@router.post("/mijn/teams/beoordeling")
def rate(request: Request, form: Form, pod: HolderPod, system: SystemDep,
         now: NowDep) -> Response:
    """A rating of a former team member, sealed to their pod: the registry keeps
    only that one was sent (as the API's rating route)."""
    subject, work = subject_of(system, pod), system.work
    name = required_text(form.get("team"), "form.team", 100)
    rated = required_text(form.get("lid"), "form.member", 64)
    aspects = {a: record_id(form.get(a)) for a in ASPECTS}
    comment = optional_text(form.get("toelichting"), "rating.comment", 1000)
    organisation = optional_text(form.get("organisatie"), "form.organisation", 40)
    team = work.teams.for_member(subject, name, organisation or None)
    rated = named(system, team.organisation, rated, lambda _: NotATeamMember(name))
    work.ratings.rate(subject, team, rated, aspects, comment, now)
    return redirect("/mijn/matches", "rated")

