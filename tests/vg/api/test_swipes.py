"""Swipes on both sides, matches and contact details, through the HTTP API."""

from __future__ import annotations

import pytest

from tests.vg.api.world import GRONINGEN, UTRECHT

API = "/api/v1"


def _contact_url(world, assignment, person):
    name = world.seen_by(person)
    return f"{API}/opdrachten/{assignment}/matches/{name}/contactgegevens"


def test_likes_on_both_sides_make_a_match_seen_by_both(world):
    skills = world.skills()
    sanne = world.holder(skills)
    world.grant(sanne, ["skills"])
    staff = world.staff()
    assignment = world.assignment(staff, skills)

    first = world.like(staff, assignment, sanne)
    second = world.holder_likes(sanne, assignment)

    assert first.json()["match"] is False and second.json()["match"] is True
    matches = world.client.get(f"{API}/opdrachten/{assignment}/matches", headers=staff)
    assert matches.json()["subjects"] == [world.seen_by(sanne)]
    mine = world.client.get(f"{API}/pod/matches", headers=sanne.headers).json()
    assert [a["id"] for a in mine] == [assignment]


def test_a_pass_on_either_side_is_no_match(world):
    skills = world.skills()
    sanne = world.holder(skills)
    world.grant(sanne, ["skills"])
    staff = world.staff()
    assignment = world.assignment(staff, skills)

    world.like(staff, assignment, sanne, decision="pass")
    answer = world.holder_likes(sanne, assignment)

    assert answer.json()["match"] is False
    assert world.client.get(f"{API}/opdrachten/{assignment}/matches",
                            headers=staff).json()["subjects"] == []


def test_undo_of_the_organisations_like_undoes_the_match(world):
    skills = world.skills()
    sanne = world.holder(skills)
    world.grant(sanne, ["skills"])
    staff = world.staff()
    assignment = world.assignment(staff, skills)
    world.match(staff, assignment, sanne)

    url = f"{API}/opdrachten/{assignment}/keuzes/{world.seen_by(sanne)}"
    undone = world.client.delete(url, headers=staff)

    assert undone.status_code == 204
    assert world.client.get(f"{API}/pod/matches", headers=sanne.headers).json() == []
    again = world.client.delete(url, headers=staff)
    assert again.status_code == 404


def test_holder_can_undo_their_like(world):
    skills = world.skills()
    sanne = world.holder(skills)
    world.grant(sanne, ["skills"])
    staff = world.staff()
    assignment = world.assignment(staff, skills)
    world.match(staff, assignment, sanne)

    undone = world.client.delete(f"{API}/pod/opdrachtkeuzes/{assignment}",
                                 headers=sanne.headers)

    assert undone.status_code == 204
    assert world.client.get(f"{API}/opdrachten/{assignment}/matches",
                            headers=staff).json()["subjects"] == []


def test_an_organisation_can_not_swipe_someone_outside_its_audience(world):
    skills = world.skills()
    sanne = world.holder(skills)
    world.grant(sanne, ["skills"], audience={"kind": "organisation",
                                             "organisations": [UTRECHT]})
    groningen = world.staff(GRONINGEN)
    assignment = world.assignment(groningen, skills)

    answer = world.like(groningen, assignment, sanne)

    assert answer.status_code == 404
    assert answer.json()["code"] == "candidate-not-found"


def test_contact_details_after_a_match_and_a_contact_grant_are_logged(world):
    skills = world.skills()
    sanne = world.holder(skills)
    world.grant(sanne, ["skills"])
    world.grant(sanne, ["email", "telephone", "name"], purposes=["contact"],
                audience={"kind": "organisation", "organisations": [UTRECHT]})
    staff = world.staff()
    assignment = world.assignment(staff, skills)
    world.match(staff, assignment, sanne)

    answer = world.client.get(_contact_url(world, assignment, sanne), headers=staff)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["workcontext"]["email"] == "sanne@voorbeeld.nl"
    assert body["fields"] == ["email", "name", "telephone"]
    assert "id" not in body["workcontext"]
    [entry] = world.audit(purpose="contact")
    assert (entry.subject, entry.organisation) == (sanne.subject, UTRECHT)
    assert entry.fields == ("email", "name", "telephone")


def test_no_contact_details_without_a_match(world):
    skills = world.skills()
    sanne = world.holder(skills)
    world.grant(sanne, ["skills"])
    world.grant(sanne, ["email"], purposes=["contact"])
    staff = world.staff()
    assignment = world.assignment(staff, skills)
    world.like(staff, assignment, sanne)

    answer = world.client.get(_contact_url(world, assignment, sanne), headers=staff)

    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "no-match"
    assert world.audit(purpose="contact") == []


def test_no_contact_details_after_a_match_without_a_contact_grant(world):
    skills = world.skills()
    sanne = world.holder(skills)
    world.grant(sanne, ["skills"])
    world.grant(sanne, ["email"], purposes=["teamwork"])  # not for contact
    staff = world.staff()
    assignment = world.assignment(staff, skills)
    world.match(staff, assignment, sanne)

    answer = world.client.get(_contact_url(world, assignment, sanne), headers=staff)

    assert answer.status_code == 404
    assert answer.json()["code"] == "contact-not-granted"
    assert world.audit(purpose="contact") == []


def test_contact_grant_to_another_organisation_gives_no_contact_details(world):
    skills = world.skills()
    sanne = world.holder(skills)
    world.grant(sanne, ["skills"])
    world.grant(sanne, ["email"], purposes=["contact"],
                audience={"kind": "organisation", "organisations": [GRONINGEN]})
    staff = world.staff()
    assignment = world.assignment(staff, skills)
    world.match(staff, assignment, sanne)

    answer = world.client.get(_contact_url(world, assignment, sanne), headers=staff)

    assert answer.json()["code"] == "contact-not-granted"


def test_withdrawn_contact_grant_hides_contact_details_at_once(world):
    skills = world.skills()
    sanne = world.holder(skills)
    world.grant(sanne, ["skills"])
    contact = world.grant(sanne, ["email"], purposes=["contact"])
    staff = world.staff()
    assignment = world.assignment(staff, skills)
    world.match(staff, assignment, sanne)
    before = world.client.get(_contact_url(world, assignment, sanne), headers=staff)
    assert before.status_code == 200

    world.withdraw(sanne, contact)

    assert world.client.get(_contact_url(world, assignment, sanne),
                            headers=staff).status_code == 404


def test_swipe_with_an_unknown_decision_is_400_and_changes_nothing(world):
    skills = world.skills()
    sanne = world.holder(skills)
    world.grant(sanne, ["skills"])
    staff = world.staff()
    assignment = world.assignment(staff, skills)

    answer = world.like(staff, assignment, sanne, decision="maybe")

    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    assert world.holder_likes(sanne, assignment).json()["match"] is False


def test_holder_can_not_like_an_unknown_assignment(world):
    sanne = world.holder(world.skills())
    answer = world.holder_likes(sanne, 999)
    assert answer.status_code == 404


def test_swipes_need_credentials_and_a_staff_key(world):
    skills = world.skills()
    sanne = world.holder(skills)
    world.grant(sanne, ["skills"])
    assignment = world.assignment(world.staff(), skills)

    anonymous = world.like({}, assignment, sanne)
    dpo = world.like(world.staff(role="dpo"), assignment, sanne)
    as_holder = world.like(sanne.headers, assignment, sanne)

    assert anonymous.status_code == 401 and as_holder.status_code == 401
    assert dpo.status_code == 403


def test_out_of_range_identifiers_and_overlong_pseudonyms_are_400(world):
    sanne = world.holder(world.skills())
    staff = world.staff()
    too_big = world.holder_likes(sanne, 2**40)
    too_long = world.client.put(f"{API}/opdrachten/1/keuzes/{'a' * 33}",
                                json={"decision": "like"}, headers=staff)
    assert too_big.status_code == 400 and too_long.status_code == 400
    assert too_big.headers["content-type"] == "application/problem+json"


def test_a_match_does_not_outlive_the_consent_it_was_made_under(world):
    from datetime import timedelta

    skills = world.skills()
    sanne = world.holder(skills, name="Sanne de Boer")
    bram = world.holder(skills, name="Bram Visser")
    withdrawn = world.grant(sanne, ["skills"])
    world.grant(bram, ["skills"])
    staff = world.staff()
    assignment = world.assignment(staff, skills)
    world.match(staff, assignment, sanne)
    world.match(staff, assignment, bram)
    url = f"{API}/opdrachten/{assignment}/matches"
    assert world.client.get(url, headers=staff).json()["subjects"] == sorted(
        [world.seen_by(sanne), world.seen_by(bram)])

    world.withdraw(sanne, withdrawn)
    after_withdrawal = world.client.get(url, headers=staff).json()["subjects"]
    team = world.client.post(f"{API}/teams", headers=staff, json={
        "assignment": assignment,
        "members": [world.seen_by(sanne), world.seen_by(bram)]})
    world.clock["now"] += timedelta(days=31)  # bram's grant has expired
    after_expiry = world.client.get(url, headers=staff).json()["subjects"]

    assert after_withdrawal == [world.seen_by(bram)]
    assert team.status_code == 404 and team.json()["code"] == "candidate-not-found"
    assert after_expiry == []
    assert world.client.get(f"{API}/teams", headers=staff).json() == []


def _set_status(world, staff, assignment, *actions):
    for action in actions:
        answer = world.client.post(f"{API}/opdrachten/{assignment}/status",
                                   headers=staff, json={"action": action})
        assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("actions, status", [
    (("close",), "closed"), (("fill",), "filled"), (("fill", "close"), "closed")])
@pytest.mark.parametrize("decision", ["like", "pass"])
def test_no_decision_on_an_assignment_that_can_no_longer_be_ranked(
        world, actions, status, decision):
    skills = world.skills()
    sanne = world.holder(skills)
    world.grant(sanne, ["skills"])
    staff = world.staff()
    assignment = world.assignment(staff, skills)
    _set_status(world, staff, assignment, *actions)

    organisation = world.like(staff, assignment, sanne, decision=decision)
    passed = world.client.post(f"{API}/opdrachten/{assignment}/gepasseerd",
                               headers=staff, json={"subject": world.seen_by(sanne)})
    holder = world.client.put(f"{API}/pod/opdrachtkeuzes/{assignment}",
                              headers=sanne.headers, json={"decision": decision})

    for answer in (organisation, passed, holder):
        assert answer.status_code == 409, answer.text
        assert status in answer.json()["detail"]
    assert organisation.json()["code"] == passed.json()["code"] == "invalid-transition"
    assert holder.json()["code"] == "assignment-not-open"
    assert world.system.work.swipes.decisions_of_holder(sanne.subject) == {}
    assert world.system.registry.assignments.passed(assignment) == frozenset()


def test_a_paused_assignment_takes_the_organisations_decision_not_the_holders(world):
    skills = world.skills()
    sanne = world.holder(skills)
    world.grant(sanne, ["skills"])
    staff = world.staff()
    assignment = world.assignment(staff, skills)
    _set_status(world, staff, assignment, "pause")

    organisation = world.like(staff, assignment, sanne)
    holder = world.client.put(f"{API}/pod/opdrachtkeuzes/{assignment}",
                              headers=sanne.headers, json={"decision": "like"})

    assert organisation.status_code == 200
    assert holder.status_code == 409 and "paused" in holder.json()["detail"]
    assert holder.json()["code"] == "assignment-not-open"


def test_a_draft_stays_unknown_to_holders(world):
    skills = world.skills()
    sanne = world.holder(skills)
    staff = world.staff()
    draft = world.client.post(f"{API}/opdrachten", headers=staff, json={
        "title": "Concept", "description": "", "requiredSkills": skills[:1],
        "status": "draft"})
    assert draft.status_code == 201, draft.text

    answer = world.client.put(f"{API}/pod/opdrachtkeuzes/{draft.json()['id']}",
                              headers=sanne.headers, json={"decision": "like"})
    undo = world.client.delete(f"{API}/pod/opdrachtkeuzes/{draft.json()['id']}",
                               headers=sanne.headers)

    for refused in (answer, undo):
        assert refused.status_code == 404
        assert refused.json()["code"] == "assignment-not-offered"
        assert "organisation" not in refused.json()["detail"]


@pytest.mark.parametrize("who", ["unknown", "outside the audience"])
def test_a_pass_on_a_candidate_the_organisation_can_not_see_is_404_and_stores_nothing(
        world, who):
    skills = world.skills()
    sanne = world.holder(skills)
    world.grant(sanne, ["skills"], audience={"kind": "organisation",
                                             "organisations": [UTRECHT]})
    staff = world.staff(GRONINGEN)
    assignment = world.assignment(staff, skills)
    # Unknown: a name no organisation was given; outside the audience: the name
    # Groningen would know her by, had she granted it anything.
    subject = "a" * 52 if who == "unknown" else world.seen_by(sanne, GRONINGEN)

    passed = world.client.post(f"{API}/opdrachten/{assignment}/gepasseerd",
                               headers=staff, json={"subject": subject})
    chosen = world.client.put(f"{API}/opdrachten/{assignment}/keuzes/{subject}",
                              json={"decision": "pass"}, headers=staff)

    for answer in (passed, chosen):
        assert answer.status_code == 404, answer.text
        assert answer.json()["code"] == "candidate-not-found"
    assert world.system.registry.assignments.passed(assignment) == frozenset()


def _ended_match(world):
    """A match whose matching grant the holder then withdrew, with a live grant
    for contact to the organisation."""
    skills = world.skills()
    sanne = world.holder(skills)
    matching = world.grant(sanne, ["skills"])
    staff = world.staff()
    assignment = world.assignment(staff, skills)
    world.match(staff, assignment, sanne)
    world.grant(sanne, ["email", "name"], purposes=["contact"],
                audience={"kind": "employer", "employer": UTRECHT})
    world.withdraw(sanne, matching)
    return sanne, staff, assignment


def test_a_match_that_ended_with_its_consent_gives_no_contact_details(world):
    sanne, staff, assignment = _ended_match(world)

    answer = world.client.get(_contact_url(world, assignment, sanne), headers=staff)

    assert answer.status_code == 403 and answer.json()["code"] == "no-match"
    assert world.audit(purpose="contact") == []


def test_a_match_that_ended_with_its_consent_is_no_match_on_either_side(world):
    sanne, staff, assignment = _ended_match(world)

    listed = world.client.get(f"{API}/opdrachten/{assignment}/matches",
                              headers=staff)
    mine = world.client.get(f"{API}/pod/matches", headers=sanne.headers)
    liked_again = world.holder_likes(sanne, assignment)

    assert listed.json()["subjects"] == [] and mine.json() == []
    assert liked_again.status_code == 200 and liked_again.json()["match"] is False


@pytest.mark.parametrize("method, path, body", [
    ("put", "opdrachten/{a}/keuzes/{s}", {"decision": "like"}),
    ("delete", "opdrachten/{a}/keuzes/{s}", None),
    ("get", "opdrachten/{a}/matches/{s}/contactgegevens", None)])
def test_a_subject_in_upper_case_names_the_same_person(world, method, path, body):
    skills = world.skills()
    sanne = world.holder(skills)
    world.grant(sanne, ["skills"])
    world.grant(sanne, ["email"], purposes=["contact"])
    staff = world.staff()
    assignment = world.assignment(staff, skills)
    world.match(staff, assignment, sanne)
    url = f"{API}/" + path.format(a=assignment, s=world.seen_by(sanne).upper())

    answer = world.client.request(method, url, headers=staff, json=body)

    assert answer.status_code in (200, 204), answer.text


@pytest.mark.parametrize("method, path, body", [
    ("put", "opdrachten/{a}/keuzes/{s}", {"decision": "like"}),
    ("delete", "opdrachten/{a}/keuzes/{s}", None),
    ("get", "opdrachten/{a}/matches/{s}/contactgegevens", None)])
def test_a_subject_that_is_not_32_hexadecimal_digits_is_400(world, method, path,
                                                            body):
    staff = world.staff()
    assignment = world.assignment(staff, world.skills())
    url = f"{API}/" + path.format(a=assignment, s="z" * 32)

    answer = world.client.request(method, url, headers=staff, json=body)

    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


def _candidates(world, staff, assignment) -> list[str]:
    answer = world.client.get(f"{API}/opdrachten/{assignment}/kandidaten",
                              headers=staff)
    assert answer.status_code == 200, answer.text
    return [c["subject"] for c in answer.json()["candidates"]]


def test_a_pass_leaves_the_candidate_out_and_its_undo_brings_them_back(world):
    # The page's "Niet voor mij" and the API's pass are one decision: the
    # candidate leaves the lists, and undoing the swipe undoes both.
    skills = world.skills()
    sanne = world.holder(skills)
    world.grant(sanne, ["skills"])
    staff = world.staff()
    assignment = world.assignment(staff, skills)
    assert world.seen_by(sanne) in _candidates(world, staff, assignment)

    assert world.like(staff, assignment, sanne, decision="pass").status_code == 200
    passed = _candidates(world, staff, assignment)
    undone = world.client.delete(f"{API}/opdrachten/{assignment}/keuzes/"
                                 f"{world.seen_by(sanne)}", headers=staff)

    assert world.seen_by(sanne) not in passed
    assert undone.status_code == 204
    assert world.seen_by(sanne) in _candidates(world, staff, assignment)


def test_a_like_after_a_pass_brings_the_candidate_back_with_the_match(world):
    skills = world.skills()
    sanne = world.holder(skills)
    world.grant(sanne, ["skills"])
    staff = world.staff()
    assignment = world.assignment(staff, skills)
    world.holder_likes(sanne, assignment)
    passed = world.client.post(f"{API}/opdrachten/{assignment}/gepasseerd",
                               headers=staff, json={"subject": world.seen_by(sanne)})
    assert passed.status_code == 204

    liked = world.like(staff, assignment, sanne)

    assert liked.json()["match"] is True
    assert world.seen_by(sanne) in _candidates(world, staff, assignment)


def test_passing_on_a_matched_candidate_ends_the_match_on_both_sides(world):
    # ``gepasseerd`` is the same decision as a pass in ``keuzes``: "not for us"
    # replaces the organisation's like, so neither side is told it is a match.
    skills = world.skills()
    sanne = world.holder(skills)
    world.grant(sanne, ["skills"])
    staff = world.staff()
    assignment = world.assignment(staff, skills)
    world.match(staff, assignment, sanne)

    passed = world.client.post(f"{API}/opdrachten/{assignment}/gepasseerd",
                               headers=staff, json={"subject": world.seen_by(sanne)})

    assert passed.status_code == 204
    assert world.client.get(f"{API}/opdrachten/{assignment}/matches",
                            headers=staff).json()["subjects"] == []
    assert world.client.get(f"{API}/pod/matches", headers=sanne.headers).json() == []
    assert world.seen_by(sanne) not in _candidates(world, staff, assignment)
