"""An organisation that ranks a holder who did not grant their employer must not
learn that employer by changing its own consent policy: candidates who vanish
when the policy narrows would be exactly its own employees."""

from __future__ import annotations

from tests.vg.api.world import GRONINGEN, UTRECHT, ZEIST

API = "/api/v1"
POOL = {"kind": "cross_sector"}
ALL_KINDS = {"allowedKinds": ["organisation", "organisations", "employer",
                              "employer_and_neighbours", "province", "corop",
                              "safety_region", "all_municipalities", "sector",
                              "cross_sector"]}
NO_POOL = {"allowedKinds": ["organisation", "organisations", "employer",
                            "employer_and_neighbours", "province", "corop",
                            "safety_region", "all_municipalities", "sector"]}


def _pool(world, viewer=UTRECHT):
    """Two holders, at Utrecht and at Groningen, who grant skills to the pool but
    not their employer; Utrecht's staff and a way to read whom ``viewer`` is
    shown."""
    skills = world.skills()
    for employer in (UTRECHT, GRONINGEN):
        person = world.holder(skills, employer=employer, name=f"Werkt bij {employer}")
        world.grant(person, ["skills"], audience=POOL)  # the employer is not granted
    staff = world.staff(UTRECHT)
    viewing = staff if viewer == UTRECHT else world.staff(viewer)
    job = world.assignment(viewing, skills)

    def shown() -> set[str]:
        page = world.client.get(f"{API}/opdrachten/{job}/kandidaten",
                                headers=viewing)
        assert page.status_code == 200, page.text
        return {c["subject"] for c in page.json()["candidates"]}

    return staff, shown


def test_narrowing_its_policy_does_not_tell_an_organisation_which_candidates_it_employs(
        world):
    staff, shown = _pool(world)

    before = shown()
    narrowed = world.client.put(f"{API}/organisatie/toestemmingsbeleid",
                                json=NO_POOL, headers=staff)
    assert narrowed.status_code == 200
    after = shown()

    assert len(before) == 2
    gone = before - after
    assert gone in (set(), before), (
        f"{gone} vanished: the organisation learns whom it employs")


def test_putting_a_policy_back_brings_back_the_grants_it_suspended(world):
    staff, shown = _pool(world)
    before = shown()

    for policy in (NO_POOL, ALL_KINDS):
        answer = world.client.put(f"{API}/organisatie/toestemmingsbeleid",
                                  json=policy, headers=staff)
        assert answer.status_code == 200, answer.text

    assert shown() == before


def test_another_organisation_stops_seeing_a_suspended_grant_until_the_policy_allows_it(
        world):
    staff, shown = _pool(world, viewer=ZEIST)
    before = shown()

    answer = world.client.put(f"{API}/organisatie/toestemmingsbeleid", json=NO_POOL,
                              headers=staff)
    assert answer.status_code == 200, answer.text
    during = shown()
    answer = world.client.put(f"{API}/organisatie/toestemmingsbeleid", json=ALL_KINDS,
                              headers=staff)
    assert answer.status_code == 200, answer.text

    assert len(before) == 2
    assert len(during) == 1 and during < before  # Groningen's employee stays
    assert shown() == before


def test_the_holder_sees_a_grant_suspended_and_then_live_again(world):
    skills = world.skills()
    person = world.holder(skills, employer=UTRECHT)
    grant_id = world.grant(person, ["skills"], audience=POOL)
    staff = world.staff(UTRECHT)

    def suspended() -> bool:
        listed = world.client.get(f"{API}/pod/toestemmingen", headers=person.headers)
        assert listed.status_code == 200, listed.text
        return next(g["suspended"] for g in listed.json() if g["id"] == grant_id)

    world.client.put(f"{API}/organisatie/toestemmingsbeleid", json=NO_POOL,
                     headers=staff)
    during = suspended()
    notices = world.client.get(f"{API}/pod/toestemmingen/meldingen",
                               headers=person.headers).json()
    world.client.put(f"{API}/organisatie/toestemmingsbeleid", json=ALL_KINDS,
                     headers=staff)

    assert during is True
    assert [(n["grant"], n["organisation"]) for n in notices] == [(grant_id, UTRECHT)]
    assert suspended() is False
