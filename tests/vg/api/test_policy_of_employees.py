"""An organisation's consent policy binds the holders it attests as employees, and
only while it attests them: one that ends an employment no longer hides that
holder from every other organisation, and one that never confirmed a holder who
names it as employer never did."""

from __future__ import annotations

from tests.vg.api.world import GRONINGEN, UTRECHT

API = "/api/v1"
ONLY_EMPLOYER = {"allowedKinds": ["employer"]}


def _setting(world, attested=True):
    """A holder naming Utrecht grants all municipalities their skills for
    matching; Groningen's staff rank them on an assignment; Utrecht allows its
    employees only grants to their employer."""
    skills = world.skills()
    person = world.holder(skills, employer=UTRECHT, attested=attested)
    grant = world.grant(person, ["skills"])
    groningen = world.staff(GRONINGEN)
    job = world.assignment(groningen, skills)

    def shown() -> int:
        page = world.client.get(f"{API}/opdrachten/{job}/kandidaten",
                                headers=groningen)
        assert page.status_code == 200, page.text
        return len(page.json()["candidates"])

    before = shown()
    narrowed = world.client.put(f"{API}/organisatie/toestemmingsbeleid",
                                json=ONLY_EMPLOYER, headers=world.staff(UTRECHT))
    assert narrowed.status_code == 200, narrowed.text
    assert before == 1
    return person, grant, shown


def _notices(world, person) -> list[dict]:
    answer = world.client.get(f"{API}/pod/toestemmingen/meldingen",
                              headers=person.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_policy_leaves_a_holder_it_never_attested_visible(world):
    person, _, shown = _setting(world, attested=False)

    assert shown() == 1
    assert _notices(world, person) == []


def test_ending_the_employment_lifts_the_policys_suspension(world):
    person, grant, shown = _setting(world)
    assert shown() == 0
    [row] = world.client.get(f"{API}/medewerkers",
                             headers=world.staff(UTRECHT)).json()["items"]

    ended = world.client.delete(f"{API}/medewerkers/{row['employee']}",
                                headers=world.staff(UTRECHT))

    assert ended.status_code == 204, ended.text
    assert shown() == 1
    [notice] = _notices(world, person)
    assert (notice["grant"], notice["organisation"]) == (grant, UTRECHT)
    assert "lifted" in notice
    listed = world.client.get(f"{API}/pod/toestemmingen", headers=person.headers)
    assert next(g for g in listed.json() if g["id"] == grant)["suspended"] is False


def test_attesting_a_holder_applies_the_policy_and_tells_them(world):
    person, grant, shown = _setting(world, attested=False)

    attested = world.client.post(f"{API}/medewerkers", json={"did": person.did},
                                 headers=world.staff(UTRECHT))

    assert attested.status_code == 201, attested.text
    assert shown() == 0
    [notice] = _notices(world, person)
    assert (notice["grant"], notice["organisation"]) == (grant, UTRECHT)
    assert "lifted" not in notice
