"""Every form on the pages answers missing or bad input with 400 and the page's
error block, says nothing changed and changes nothing: never a success notice for
an action that did not happen, never a silent re-render."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from registry import AssignmentSpec
from registry.tables_work import Swipe
from tests.factories import NOW, UTRECHT
from tests.vg.web.test_web_pages import (  # noqa: F401
    app,
    csrf,
    signed_in_holder,
    signed_in_organisation,
)
from vg.web import cookies

MATCHING = {"publiek": "employer_and_neighbours", "doel": "matching",
            "veld": ["employer", "skills"], "tot": "2027-06-30"}


def refused(answer, status: int = 400, says: str = "Er is niets veranderd") -> None:
    assert answer.status_code == status, answer.text[:300]
    alert = re.search(r'<div class="utrecht-alert[^"]*" role="alert".*?</div>',
                      answer.text, re.S)
    assert alert and says in alert.group(0)
    set_cookies = " ".join(answer.headers.get_list("set-cookie"))
    assert not re.search(re.escape(cookies.NOTICE) + r'=[^";]', set_cookies)


def holder_with_grant(app):  # noqa: F811
    holder, token = signed_in_holder(app)
    assert holder.post("/mijn/toestemmingen", data={"csrf": token, **MATCHING}
                       ).status_code == 303
    return holder, token


def live_grants(holder) -> list[str]:
    return sorted(set(re.findall(r'name="toestemming" value="([0-9a-f-]{36})"',
                                 holder.get("/mijn/toestemmingen").text)))


def swipe_count(app) -> int:  # noqa: F811
    with app.state.system.registry.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Swipe.__table__)
                            ).scalar_one()


def assignment_with_candidate(app):  # noqa: F811
    system = app.state.system
    holder_with_grant(app)
    staff = signed_in_organisation(app)
    requester = system.registry.access.authenticate(staff.key)
    assignment = system.registry.create_assignment(requester, AssignmentSpec(
        "Omgevingswet", "", tuple(sorted(system.reference.skills)[:1])), NOW, "open")
    [ranked] = system.registry.candidates(requester, assignment.id, NOW, "1" * 32,
                                          10).candidates
    return staff, requester, assignment, ranked.profile.pseudonym


@pytest.mark.parametrize("fields", [{}, {"team": ""}, {"team": "x" * 101}])
def test_dissolving_without_a_team_name_is_refused_not_reported_done(app, fields):  # noqa: F811,E501
    staff = signed_in_organisation(app)

    refused(staff.post("/organisatie/teams/ontbinden", data={
        "csrf": csrf(staff.get("/organisatie")), **fields}))


def test_forming_a_team_without_an_assignment_is_refused(app):  # noqa: F811
    staff = signed_in_organisation(app)

    refused(staff.post("/organisatie/teams", data={
        "csrf": csrf(staff.get("/organisatie")), "lid": "1" * 32, "naam": "team-a"}))


@pytest.mark.parametrize("fields", [{}, {"keuze": "hate"}, {"keuze": "like",
                                                            "kandidaat": ""}])
def test_an_organisations_decision_without_a_valid_choice_decides_nothing(
        app, fields):  # noqa: F811
    staff, requester, assignment, subject = assignment_with_candidate(app)
    system = app.state.system

    answer = staff.post(f"/organisatie/opdrachten/{assignment.id}/keuze", data={
        "csrf": csrf(staff.get("/organisatie")), "kandidaat": subject, **fields})

    refused(answer)
    assert system.work.swipes.decisions_of_organisation(requester, assignment.id) == {}


def test_contact_without_a_candidate_is_refused(app):  # noqa: F811
    staff, _, assignment, _ = assignment_with_candidate(app)

    refused(staff.post(f"/organisatie/opdrachten/{assignment.id}/contact", data={
        "csrf": csrf(staff.get("/organisatie"))}))


@pytest.mark.parametrize("value", [None, "", "x" * 3000, "urn:uuid:" + "0" * 36])
def test_withdrawing_without_a_valid_grant_is_refused_and_keeps_every_grant(
        app, value):  # noqa: F811
    holder, token = holder_with_grant(app)
    before = live_grants(holder)

    refused(holder.post("/mijn/toestemmingen/intrekken", data={
        "csrf": token, **({} if value is None else {"toestemming": value})}))
    assert live_grants(holder) == before and len(before) == 1


def test_withdrawing_another_pods_grant_is_not_found_and_keeps_both(app):  # noqa: F811
    holder, token = holder_with_grant(app)
    other, _ = holder_with_grant(app)
    [theirs] = live_grants(other)

    refused(holder.post("/mijn/toestemmingen/intrekken", data={
        "csrf": token, "toestemming": theirs}), status=404)
    assert live_grants(other) == [theirs] and len(live_grants(holder)) == 1


@pytest.mark.parametrize("fields", [
    {"opdracht": "99999999999999999999", "keuze": "like"},
    {"opdracht": "1", "keuze": "hate"}, {"keuze": "like"}, {"opdracht": "1"}])
def test_a_holders_decision_without_a_valid_choice_is_refused(app, fields):  # noqa: F811,E501
    holder, token = signed_in_holder(app)

    refused(holder.post("/mijn/opdrachten/keuze", data={"csrf": token, **fields}))
    assert swipe_count(app) == 0


@pytest.mark.parametrize("fields", [{}, {"team": "wijkteam"}, {"lid": "1" * 32}])
def test_a_rating_without_a_team_or_member_is_refused(app, fields):  # noqa: F811
    holder, token = signed_in_holder(app)

    refused(holder.post("/mijn/teams/beoordeling", data={"csrf": token, **fields}))


@pytest.mark.parametrize("fields", [{}, {"actie": "opblazen", "groep": "x"}])
def test_a_group_form_without_a_known_action_is_refused(app, fields):  # noqa: F811
    holder, token = signed_in_holder(app)

    refused(holder.post("/mijn/kennisdelen/groep", data={"csrf": token, **fields}))


def test_searching_colleagues_without_a_skill_is_refused(app):  # noqa: F811
    holder, token = signed_in_holder(app)

    refused(holder.post("/mijn/kennisdelen/collegas", data={
        "csrf": token, "actie": "vinden"}), says="Vaardigheden ontbreekt")


@pytest.mark.parametrize("value", ["", "xx", "de"])
def test_an_unknown_language_is_refused_and_keeps_the_current_one(app, value):  # noqa: F811,E501
    holder, token = signed_in_holder(app)

    answer = holder.post("/taal", data={"csrf": token, "taal": value, "terug": "/"})

    refused(answer)
    assert cookies.LANGUAGE not in answer.headers.get("set-cookie", "")


@pytest.mark.parametrize("lang, says", [
    ("nl", "Deze opdracht bestaat niet of staat niet open"),
    ("en", "This assignment does not exist or is not open")])
def test_a_holders_like_of_a_draft_is_refused_in_the_holders_words(
        app, lang, says):  # noqa: F811
    system = app.state.system
    holder, token = holder_with_grant(app)
    staff = signed_in_organisation(app)
    requester = system.registry.access.authenticate(staff.key)
    draft = system.registry.create_assignment(requester, AssignmentSpec(
        "Concept", "", tuple(sorted(system.reference.skills)[:1])), NOW, "draft")
    holder.cookies.set(cookies.LANGUAGE, lang)

    answer = holder.post("/mijn/opdrachten/keuze", data={
        "csrf": token, "opdracht": str(draft.id), "keuze": "like"})

    assert answer.status_code == 404
    assert says in answer.text
    assert "organisati" not in answer.text.split("<main", 1)[-1].split("</main>")[0]
    assert swipe_count(app) == 0


@pytest.mark.parametrize("lang, says", [("nl", "De wachtzin klopt niet"),
                                        ("en", "The passphrase is wrong")])
@pytest.mark.parametrize("action, extra", [
    ("/mijn/gegevens/export", {}), ("/mijn/gegevens/wissen", {"bevestiging": "WISSEN"})])
def test_a_wrong_passphrase_of_a_signed_in_holder_names_no_pod_id(
        app, lang, says, action, extra):  # noqa: F811
    holder, token = signed_in_holder(app)
    holder.cookies.set(cookies.LANGUAGE, lang)
    pod_id = re.search(r'class="utrecht-code vg-id">([0-9a-f]{32})<',
                       holder.get("/mijn").text).group(1)

    answer = holder.post(action, data={"csrf": token, "wachtzin": "niet de goede",
                                       **extra})

    refused(answer, status=401, says=says)
    main = answer.text.split("<main", 1)[-1].split("</main>")[0]
    assert pod_id not in answer.text
    assert "pod-id" not in main.lower() and "pod id" not in main.lower()
    assert holder.get("/mijn").status_code == 200


def test_the_unlock_refusal_of_a_page_names_no_pod_id():
    from vg.web.i18n import catalogue

    for lang in ("nl", "en"):
        sentence = catalogue(lang)["problem.unlock-failed"].lower()
        assert "pod-id" not in sentence and "pod id" not in sentence
