"""Interest groups and peer search: holders as requesters, through the gate and the
audit log, through the HTTP API."""

from __future__ import annotations

import pytest

from tests.vg.api.test_intro_video import with_video
from tests.vg.api.world import GRONINGEN, UTRECHT, ZEIST

API = "/api/v1"
GROUP = {"slug": "omgevingswet", "name": "Omgevingswet",
         "theme": "De Omgevingswet in de praktijk"}


def _group(world, founder):
    answer = world.client.post(f"{API}/groepen", json=GROUP, headers=founder.headers)
    assert answer.status_code == 201, answer.text
    return answer.json()["slug"]


def _join(world, person, slug):
    answer = world.client.put(f"{API}/groepen/{slug}/lidmaatschap",
                              headers=person.headers)
    assert answer.status_code == 200, answer.text


def _suggestions(world, person, slug):
    return world.client.get(f"{API}/groepen/{slug}/suggesties", headers=person.headers)


def test_group_suggests_members_who_consented_to_knowledge_sharing(world):
    skills = world.skills()
    sanne = world.holder(skills, employer=UTRECHT, name="Sanne de Boer")
    bram = world.holder(skills, employer=ZEIST, name="Bram Visser")
    eva = world.holder(skills, employer=ZEIST, name="Eva Smit")
    world.grant(bram, ["name", "skills"], purposes=["knowledge_sharing"])
    world.grant(eva, ["name", "skills"])  # matching only
    slug = _group(world, sanne)
    _join(world, bram, slug)
    _join(world, eva, slug)

    answer = _suggestions(world, sanne, slug)

    assert answer.status_code == 200
    [suggested] = answer.json()
    assert suggested["subject"] == world.seen_by(bram, UTRECHT)
    assert suggested["workcontext"]["name"] == "Bram Visser"
    assert "Eva" not in answer.text and eva.subject not in answer.text
    assert bram.subject not in answer.text
    [entry] = world.audit(purpose="knowledge_sharing")
    assert (entry.actor, entry.organisation, entry.subject) == (
        sanne.subject, UTRECHT, bram.subject)


def test_members_see_each_other_only_as_far_as_they_consented(world):
    skills = world.skills()
    sanne = world.holder(skills, employer=UTRECHT)
    bram = world.holder(skills, employer=ZEIST, name="Bram Visser")
    world.grant(bram, ["skills"], purposes=["knowledge_sharing"])
    slug = _group(world, sanne)
    _join(world, bram, slug)

    [suggested] = _suggestions(world, sanne, slug).json()

    assert suggested["fields"] == ["skills"]
    assert "name" not in suggested["workcontext"]
    assert "Bram" not in _suggestions(world, sanne, slug).text


def test_knowledge_sharing_only_reaches_the_audience_the_member_chose(world):
    skills = world.skills()
    sanne = world.holder(skills, employer=GRONINGEN)
    bram = world.holder(skills, employer=ZEIST)
    world.grant(bram, ["skills"], purposes=["knowledge_sharing"],
                audience={"kind": "employer_and_neighbours", "employer": ZEIST})
    slug = _group(world, sanne)
    _join(world, bram, slug)

    assert _suggestions(world, sanne, slug).json() == []
    assert world.audit() == []


def test_a_non_member_gets_no_suggestions_and_a_left_member_none_either(world):
    skills = world.skills()
    sanne = world.holder(skills)
    bram = world.holder(skills, employer=ZEIST)
    slug = _group(world, sanne)

    outsider = _suggestions(world, bram, slug)
    _join(world, bram, slug)
    left = world.client.delete(f"{API}/groepen/{slug}/lidmaatschap",
                               headers=bram.headers)
    after = _suggestions(world, bram, slug)

    assert outsider.status_code == 403
    assert outsider.json()["code"] == "not-a-group-member"
    assert left.status_code == 204 and after.status_code == 403


def test_groups_are_listed_and_a_taken_slug_or_bad_name_is_refused(world):
    sanne = world.holder(world.skills())
    _group(world, sanne)

    listed = world.client.get(f"{API}/groepen", headers=sanne.headers).json()
    taken = world.client.post(f"{API}/groepen", json=GROUP, headers=sanne.headers)
    bad = world.client.post(f"{API}/groepen", headers=sanne.headers,
                            json={"slug": "Niet Goed", "name": "x"})

    assert listed == {"items": [{**GROUP, "members": 1}], "nextCursor": None}
    assert taken.status_code == 409
    assert bad.status_code == 400
    assert len(world.client.get(f"{API}/groepen", headers=sanne.headers
                                ).json()["items"]) == 1


def test_peer_search_finds_colleagues_with_a_skill_and_logs_the_holder(world):
    skills = world.skills(4)
    sanne = world.holder(skills[:1], employer=UTRECHT)
    bram = world.holder(skills[:3], employer=ZEIST, name="Bram Visser")
    eva = world.holder(skills[2:4], employer=ZEIST, name="Eva Smit")
    world.grant(bram, ["name", "skills"], purposes=["knowledge_sharing"])
    world.grant(eva, ["name", "skills"], purposes=["knowledge_sharing"])
    world.grant(sanne, ["skills"], purposes=["knowledge_sharing"])

    answer = world.client.get(f"{API}/collegas", headers=sanne.headers,
                              params={"vaardigheid": [skills[1], skills[2]]})

    assert answer.status_code == 200
    found = answer.json()
    assert {p["subject"] for p in found} == {world.seen_by(bram, UTRECHT),
                                             world.seen_by(eva, UTRECHT)}
    assert bram.subject not in answer.text and eva.subject not in answer.text
    assert found[0]["workcontext"]["name"] == "Bram Visser"
    assert found[0]["matchedSkills"] == sorted([skills[1], skills[2]])
    entries = world.audit(purpose="knowledge_sharing")
    assert {(e.actor, e.organisation) for e in entries} == {(sanne.subject, UTRECHT)}
    assert {e.subject for e in entries} == {bram.subject, eva.subject}


def test_holders_of_two_organisations_know_one_colleague_by_names_that_differ(world):
    """A holder looks on behalf of their own organisation (the requester the gate
    and the log name): they are shown the name that organisation knows the
    colleague by, so two holders of different organisations can not join what
    each was shown, nor join it with the registry's pseudonym."""
    skills = world.skills()
    sanne = world.holder(skills, employer=UTRECHT)
    piet = world.holder(skills, employer=GRONINGEN, name="Piet Jansen")
    bram = world.holder(skills, employer=ZEIST, name="Bram Visser")
    world.grant(bram, ["skills"], purposes=["knowledge_sharing"],
                audience={"kind": "organisation", "organisations": [UTRECHT]})
    world.grant(bram, ["name"], purposes=["knowledge_sharing"],
                audience={"kind": "organisation", "organisations": [GRONINGEN]})
    slug = _group(world, sanne)
    _join(world, piet, slug)
    _join(world, bram, slug)

    by_sanne = _suggestions(world, sanne, slug).json()
    by_piet = _suggestions(world, piet, slug).json()
    searched = world.client.get(f"{API}/collegas", headers=sanne.headers,
                                params={"vaardigheid": skills[0]}).json()

    assert [p["subject"] for p in by_sanne] == [world.seen_by(bram, UTRECHT)]
    assert [p["subject"] for p in by_piet] == [world.seen_by(bram, GRONINGEN)]
    assert [p["subject"] for p in searched] == [world.seen_by(bram, UTRECHT)]
    assert by_sanne[0]["subject"] != by_piet[0]["subject"]
    assert bram.subject not in str([by_sanne, by_piet, searched])


def test_peer_search_does_not_reach_people_without_knowledge_sharing_consent(world):
    skills = world.skills()
    sanne = world.holder(skills)
    bram = world.holder(skills, employer=ZEIST)
    world.grant(bram, ["skills"])  # for matching only

    answer = world.client.get(f"{API}/collegas", headers=sanne.headers,
                              params={"vaardigheid": skills[0]})

    assert answer.json() == [] and world.audit() == []


def test_freelancers_are_shown_no_colleague_by_any_name(world):
    """A freelancer, and an employee their employer did not attest, look on behalf
    of no organisation: shown nobody, so no two of them share a name of a
    colleague or an address of their video."""
    skills = world.skills()
    looking = [world.holder(skills, employer=None),
               world.holder(skills, employer=None),
               world.holder(skills, employer=ZEIST, attested=False)]
    bram = world.holder(skills, employer=ZEIST, name="Bram Visser")
    with_video(world, bram)
    for audience in ({"kind": "cross_sector"}, {"kind": "all_municipalities"}):
        world.grant(bram, ["name", "skills", "intro_video"],
                    purposes=["knowledge_sharing"], audience=audience)
    slug = _group(world, bram)
    for person in looking:
        _join(world, person, slug)

    answers = [answer for person in looking for answer in (
        world.client.get(f"{API}/collegas", headers=person.headers,
                         params={"vaardigheid": skills[0]}),
        _suggestions(world, person, slug))]

    assert [(a.status_code, a.json()) for a in answers] == [(200, [])] * 6
    assert world.audit() == []
    sanne = world.holder(skills, employer=UTRECHT)
    _join(world, sanne, slug)
    [seen] = _suggestions(world, sanne, slug).json()
    assert seen["subject"] == world.seen_by(bram, UTRECHT)
    assert "introVideo" in seen["workcontext"]


def test_peer_search_needs_a_session_and_at_most_ten_skills(world):
    sanne = world.holder(world.skills())
    staff = world.staff()
    skills = world.skills(11)
    assert world.client.get(f"{API}/collegas", headers=staff,
                            params={"vaardigheid": skills[0]}).status_code == 401
    too_many = world.client.get(f"{API}/collegas", headers=sanne.headers,
                                params={"vaardigheid": skills})
    assert too_many.status_code == 400


@pytest.mark.parametrize("skill, why", [
    ("", "empty"), ("   ", "empty"), ("a\u202eb", "direction"), ("a\x07b", "control"),
    ("s0", "ESCO"), ("Bestuursrecht", "ESCO"),
    ("http://data.europa.eu/esco/skill/no-such-skill", "ESCO"),
])
def test_peer_search_refuses_a_skill_that_is_not_an_esco_skill(world, skill, why):
    """A typo or a label would otherwise read as "nobody has this skill"."""
    sanne = world.holder(world.skills())

    answer = world.client.get(f"{API}/collegas", headers=sanne.headers,
                              params={"vaardigheid": [world.skills()[0], skill]})

    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["code"] == "invalid-input"
    assert "vaardigheid" in problem["detail"] and why in problem["detail"]
    assert "\u202e" not in answer.text and "\x07" not in answer.text
    assert world.audit() == []
