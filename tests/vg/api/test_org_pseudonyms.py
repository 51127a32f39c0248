"""One holder is known to each organisation by a name of that organisation alone:
two organisations that each received different fields can not join them."""

from __future__ import annotations

import base64

from tests.vg.api.world import GRONINGEN, UTRECHT

API = "/api/v1"


def _candidates(world, staff, assignment) -> dict:
    answer = world.client.get(f"{API}/opdrachten/{assignment}/kandidaten",
                              headers=staff)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _two_organisations_see_one_holder(world):
    """Sanne grants her skills to Utrecht and her availability to Groningen, for
    matching, in two separate grants; each organisation ranks her once."""
    skills = world.skills()
    sanne = world.holder(skills)
    world.grant(sanne, ["skills"],
                audience={"kind": "organisation", "organisations": [UTRECHT]})
    world.grant(sanne, ["skills", "hours_per_week"],
                audience={"kind": "organisation", "organisations": [GRONINGEN]})
    utrecht, groningen = world.staff(UTRECHT), world.staff(GRONINGEN)
    jobs = world.assignment(utrecht, skills), world.assignment(groningen, skills)
    [seen_u] = _candidates(world, utrecht, jobs[0])["candidates"]
    [seen_g] = _candidates(world, groningen, jobs[1])["candidates"]
    return sanne, (utrecht, groningen), jobs, (seen_u["subject"], seen_g["subject"])


def test_two_organisations_know_one_holder_by_names_that_differ(world):
    sanne, _, _, (in_utrecht, in_groningen) = _two_organisations_see_one_holder(world)

    assert in_utrecht != in_groningen
    assert sanne.subject not in (in_utrecht, in_groningen)
    assert in_utrecht == world.seen_by(sanne, UTRECHT)
    assert in_groningen == world.seen_by(sanne, GRONINGEN)


def test_a_name_one_organisation_was_shown_is_unknown_to_another(world):
    sanne, (utrecht, groningen), jobs, (in_utrecht, _) = \
        _two_organisations_see_one_holder(world)
    invented = base64.b32encode(bytes(32)).decode().rstrip("=").lower()

    borrowed = world.client.put(f"{API}/opdrachten/{jobs[1]}/keuzes/{in_utrecht}",
                                json={"decision": "like"}, headers=groningen)
    unknown = world.client.put(f"{API}/opdrachten/{jobs[1]}/keuzes/{invented}",
                               json={"decision": "like"}, headers=groningen)

    assert borrowed.status_code == unknown.status_code == 404
    assert borrowed.json()["type"] == unknown.json()["type"]
    assert borrowed.json()["detail"] == unknown.json()["detail"]
    assert in_utrecht not in borrowed.text
    passed = world.client.post(f"{API}/opdrachten/{jobs[1]}/gepasseerd",
                               json={"subject": in_utrecht}, headers=groningen)
    assert passed.status_code == 404


def test_the_registry_s_own_pseudonym_is_not_accepted_from_an_organisation(world):
    sanne, (utrecht, _), jobs, _ = _two_organisations_see_one_holder(world)

    answer = world.client.put(f"{API}/opdrachten/{jobs[0]}/keuzes/{sanne.subject}",
                              json={"decision": "like"}, headers=utrecht)

    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"


def test_swipes_matches_and_contact_speak_the_organisation_s_name(world):
    sanne, (utrecht, groningen), jobs, (in_utrecht, in_groningen) = \
        _two_organisations_see_one_holder(world)
    world.grant(sanne, ["email"], purposes=("contact",),
                audience={"kind": "organisation", "organisations": [UTRECHT]})

    liked = world.client.put(f"{API}/opdrachten/{jobs[0]}/keuzes/{in_utrecht}",
                             json={"decision": "like"}, headers=utrecht)
    world.holder_likes(sanne, jobs[0])
    matches = world.client.get(f"{API}/opdrachten/{jobs[0]}/matches", headers=utrecht)
    contact = world.client.get(
        f"{API}/opdrachten/{jobs[0]}/matches/{in_utrecht}/contactgegevens",
        headers=utrecht)

    assert liked.json()["subject"] == in_utrecht
    assert matches.json()["subjects"] == [in_utrecht]
    assert contact.status_code == 200 and contact.json()["subject"] == in_utrecht
    assert sanne.subject not in contact.text


def test_a_page_cursor_holds_no_pseudonym_another_organisation_could_read(world):
    skills = world.skills()
    people = [world.holder(skills, name=f"Persoon {n}") for n in range(3)]
    for person in people:
        world.grant(person, ["skills"])
    staff = world.staff(UTRECHT)
    job = world.assignment(staff, skills)

    first = world.client.get(f"{API}/opdrachten/{job}/kandidaten?limit=2",
                             headers=staff).json()
    cursor = first["nextCursor"]
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    second = world.client.get(f"{API}/opdrachten/{job}/kandidaten",
                              params={"limit": 2, "cursor": cursor},
                              headers=staff).json()
    groningen = world.staff(GRONINGEN)
    theirs = world.assignment(groningen, skills)
    foreign = world.client.get(f"{API}/opdrachten/{theirs}/kandidaten",
                               params={"limit": 2, "cursor": cursor},
                               headers=groningen)

    assert all(p.subject not in raw for p in people)
    shown = [c["subject"] for c in first["candidates"] + second["candidates"]]
    assert sorted(shown) == sorted(world.seen_by(p, UTRECHT) for p in people)
    assert foreign.status_code == 400
    assert foreign.json()["code"] == "invalid-cursor"


def test_a_municipal_dpo_reads_the_log_by_the_organisation_s_names(world):
    sanne, _, _, (in_utrecht, in_groningen) = _two_organisations_see_one_holder(world)
    dpo = world.staff(UTRECHT, role="dpo")

    entries = world.client.get(f"{API}/auditlog", headers=dpo).json()
    mine = world.client.get(f"{API}/auditlog", params={"subject": in_utrecht},
                            headers=dpo)
    borrowed = world.client.get(f"{API}/auditlog", params={"subject": in_groningen},
                                headers=dpo)
    exported = world.client.get(f"{API}/auditlog", params={"format": "csv"},
                                headers=dpo)

    shown = {e["subject"] for e in entries if e["subject"]}
    assert shown == {in_utrecht}
    assert [e["subject"] for e in mine.json()] == [in_utrecht]
    assert borrowed.status_code == 400
    assert sanne.subject not in exported.text and in_utrecht in exported.text
    assert in_groningen not in exported.text


def test_the_platform_dpo_keeps_the_registry_s_pseudonym(world):
    sanne, *_ = _two_organisations_see_one_holder(world)
    dpo = world.staff(UTRECHT, role="platform-dpo")

    entries = world.client.get(f"{API}/auditlog", params={"subject": sanne.subject},
                               headers=dpo).json()

    assert {e["organisation"] for e in entries} == {UTRECHT, GRONINGEN}
    assert {e["subject"] for e in entries} == {sanne.subject}
