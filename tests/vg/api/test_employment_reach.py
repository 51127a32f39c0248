"""A grant to "my employer" reaches an organisation only while it is the holder's
employer: once it ends the employment it attested, it (and, for an audience of the
employer and its neighbours, each neighbour) sees nothing more under that grant,
and the holder is told why. Attesting the employment again brings the grant back."""

from __future__ import annotations

import json

from tests.vg.api.world import LD_JSON, UTRECHT, ZEIST

API = "/api/v1"
NEAR = {"kind": "employer_and_neighbours", "employer": ZEIST}


def _candidates(world, staff, assignment) -> list[dict]:
    answer = world.client.get(f"{API}/opdrachten/{assignment}/kandidaten",
                              headers=staff)
    assert answer.status_code == 200, answer.text
    return answer.json()["candidates"]


def _reference(world, person, organisation=ZEIST) -> str:
    [row] = [r for r in world.client.get(
        f"{API}/medewerkers", headers=world.staff(organisation)).json()["items"]]
    return row["employee"]


def _end(world, person, organisation=ZEIST) -> None:
    reference = _reference(world, person, organisation)
    answer = world.client.delete(f"{API}/medewerkers/{reference}",
                                 headers=world.staff(organisation))
    assert answer.status_code == 204, answer.text


def _setting(world, audience=NEAR):
    skills = world.skills()
    bram = world.holder(skills, employer=ZEIST, name="Bram Visser")
    grant = world.grant(bram, ["skills"], audience=audience)
    zeist, utrecht = world.staff(ZEIST), world.staff(UTRECHT)
    lists = [(zeist, world.assignment(zeist, skills)),
             (utrecht, world.assignment(utrecht, skills))]
    return bram, grant, lists


def _seen(world, lists) -> list[int]:
    return [len(_candidates(world, staff, a)) for staff, a in lists]


def test_an_ended_employment_ends_the_employer_and_its_neighbours_reach(world):
    bram, grant, lists = _setting(world)
    assert _seen(world, lists) == [1, 1]

    _end(world, bram)

    assert _seen(world, lists) == [0, 0]


def test_an_ended_employment_ends_an_employer_audience(world):
    bram, grant, lists = _setting(world, {"kind": "employer", "employer": ZEIST})
    assert _seen(world, lists) == [1, 0]

    _end(world, bram)

    assert _seen(world, lists) == [0, 0]


def test_the_holder_is_told_and_the_grant_shows_suspended(world):
    bram, grant, _ = _setting(world)

    _end(world, bram)

    [notice] = world.client.get(f"{API}/pod/toestemmingen/meldingen",
                                headers=bram.headers).json()
    assert notice["grant"] == grant and notice["organisation"] == ZEIST
    assert "attest" in notice["reason"]
    listed = world.client.get(f"{API}/pod/toestemmingen", headers=bram.headers).json()
    shown = next(g for g in listed if g["id"] == grant)
    assert shown["suspended"] is True


def test_a_grant_to_another_audience_is_untouched(world):
    """Ending one employment must not tell the employer which of its other
    candidates the holder is (EDPB Guidelines 05/2020, section 3.1.1)."""
    bram, _, lists = _setting(world, {"kind": "all_municipalities"})

    _end(world, bram)

    assert _seen(world, lists) == [1, 1]


def test_saving_the_workcontext_again_does_not_bring_the_grant_back(world):
    bram, _, lists = _setting(world)
    _end(world, bram)
    document = world.client.get(f"{API}/pod/werkcontext", headers=bram.headers).json()
    document["name"] = "Bram Visser-de Wit"

    saved = world.client.put(f"{API}/pod/werkcontext", content=json.dumps(document),
                             headers={**bram.headers, "Content-Type": LD_JSON})

    assert saved.status_code == 200, saved.text
    assert _seen(world, lists) == [0, 0]
    assert len(world.client.get(f"{API}/pod/toestemmingen/meldingen",
                                headers=bram.headers).json()) == 1


def test_attesting_the_employment_again_brings_the_grant_back(world):
    bram, grant, lists = _setting(world)
    _end(world, bram)

    again = world.client.post(f"{API}/medewerkers", json={"did": bram.did},
                              headers=world.staff(ZEIST))

    assert again.status_code == 201, again.text
    assert _seen(world, lists) == [1, 1]
    listed = world.client.get(f"{API}/pod/toestemmingen", headers=bram.headers).json()
    assert next(g for g in listed if g["id"] == grant)["suspended"] is False


def test_a_first_attestation_changes_nothing_the_employer_is_shown(world):
    """Only what an end hid comes back: attesting a did tells the organisation
    nothing about that person's grants."""
    skills = world.skills()
    bram = world.holder(skills, employer=ZEIST, name="Bram Visser", attested=False)
    world.grant(bram, ["skills"], audience=NEAR)
    zeist = world.staff(ZEIST)
    lists = [(zeist, world.assignment(zeist, skills))]
    before = _seen(world, lists)

    world.client.post(f"{API}/medewerkers", json={"did": bram.did}, headers=zeist)

    assert _seen(world, lists) == before
    assert world.client.get(f"{API}/pod/toestemmingen/meldingen",
                            headers=bram.headers).json() == []
