"""Employment counts only as the employer attests it: a holder who writes an employer
into their own Workcontext reaches nothing that employer's colleagues may see."""

from __future__ import annotations

import os

import pytest

from consent import did_from_public_key
from registry import limits
from tests.vg.api.world import UTRECHT, ZEIST

API = "/api/v1"


def _search(world, person, skill):
    return world.client.get(f"{API}/collegas", headers=person.headers,
                            params={"vaardigheid": skill})


def test_a_self_claimed_employer_opens_no_organisation_audience(world):
    skills = world.skills()
    bram = world.holder(skills, employer=ZEIST, name="Bram Visser")
    world.grant(bram, ["name", "skills"], purposes=["knowledge_sharing"],
                audience={"kind": "organisation", "organisations": [ZEIST]})
    mallory = world.holder(skills, employer=ZEIST, name="Mallory", attested=False)
    colleague = world.holder(skills, employer=ZEIST, name="Eva Smit")

    refused = _search(world, mallory, skills[0])
    allowed = _search(world, colleague, skills[0])

    assert refused.status_code == 200 and refused.json() == []
    assert "Bram" not in refused.text
    assert [p["subject"] for p in allowed.json()] == [world.seen_by(bram, ZEIST)]
    assert {e.actor for e in world.audit(purpose="knowledge_sharing")} == {
        colleague.subject}


def test_ending_the_employment_closes_the_audience_at_once(world):
    skills = world.skills()
    bram = world.holder(skills, employer=ZEIST)
    world.grant(bram, ["skills"], purposes=["knowledge_sharing"],
                audience={"kind": "organisation", "organisations": [ZEIST]})
    eva = world.holder(skills, employer=ZEIST, name="Eva Smit")
    assert len(_search(world, eva, skills[0]).json()) == 1

    employee = world.client.post(f"{API}/medewerkers", json={"did": eva.did},
                                 headers=world.staff(ZEIST)).json()["employee"]
    ended = world.client.delete(f"{API}/medewerkers/{employee}",
                                headers=world.staff(ZEIST))

    assert ended.status_code == 204
    assert _search(world, eva, skills[0]).json() == []


def test_an_organisation_lists_and_ends_only_its_own_employees(world):
    eva = world.holder(world.skills(), employer=ZEIST)
    zeist, utrecht = world.staff(ZEIST), world.staff(UTRECHT)

    listed = world.client.get(f"{API}/medewerkers", headers=zeist)
    elsewhere = world.client.get(f"{API}/medewerkers", headers=utrecht)
    [employee] = [e["employee"] for e in listed.json()["items"]]
    foreign_end = world.client.delete(f"{API}/medewerkers/{employee}",
                                      headers=utrecht)
    again = world.client.post(f"{API}/medewerkers", json={"did": eva.did},
                              headers=zeist)

    assert again.json()["employee"] == employee
    assert elsewhere.json() == {"items": [], "nextCursor": None}
    assert foreign_end.status_code == 404
    assert foreign_end.headers["content-type"] == "application/problem+json"
    assert again.status_code == 201
    assert again.json()["attested"] == listed.json()["items"][0]["attested"]


def test_only_staff_attest_and_a_bad_did_changes_nothing(world):
    eva = world.holder(world.skills(), employer=None)
    dpo = world.staff(ZEIST, role="dpo")

    by_dpo = world.client.post(f"{API}/medewerkers", json={"did": eva.did},
                               headers=dpo)
    by_holder = world.client.post(f"{API}/medewerkers", json={"did": eva.did},
                                  headers=eva.headers)
    bad = world.client.post(f"{API}/medewerkers", json={"did": "did:web:example"},
                            headers=world.staff(ZEIST))
    extra = world.client.post(f"{API}/medewerkers", headers=world.staff(ZEIST),
                              json={"did": eva.did, "role": "admin"})

    assert (by_dpo.status_code, by_holder.status_code) == (403, 401)
    assert (bad.status_code, extra.status_code) == (400, 400)
    assert world.client.get(f"{API}/medewerkers",
                            headers=world.staff(ZEIST)).json()["items"] == []


def test_attesting_a_did_never_hands_out_the_registrys_pseudonym(world):
    """Anyone who knows a did could otherwise find its holder in every candidate
    list, match and log; each organisation gets a reference of its own."""
    eva = world.holder(world.skills(), employer=ZEIST)

    answers = [world.client.post(f"{API}/medewerkers", json={"did": eva.did},
                                 headers=world.staff(org)) for org in (ZEIST, UTRECHT)]
    listed = [world.client.get(f"{API}/medewerkers", headers=world.staff(org)).text
              for org in (ZEIST, UTRECHT)]

    assert [a.status_code for a in answers] == [201, 201]
    references = [a.json()["employee"] for a in answers]
    assert len(set(references)) == 2
    assert all(eva.subject not in text for text in [a.text for a in answers] + listed)


def _random_did() -> str:
    """The did of a key no pod holds: the registry has never seen it."""
    return did_from_public_key(os.urandom(32))


def test_an_organisation_attests_at_most_its_ceiling_of_employees(world, monkeypatch):
    monkeypatch.setattr(limits, "MAX_EMPLOYEES", 3)
    zeist = world.staff(ZEIST)
    dids = [_random_did() for _ in range(4)]

    answers = [world.client.post(f"{API}/medewerkers", json={"did": did},
                                 headers=zeist) for did in dids]
    again = world.client.post(f"{API}/medewerkers", json={"did": dids[0]},
                              headers=zeist)
    elsewhere = world.client.post(f"{API}/medewerkers", json={"did": dids[3]},
                                  headers=world.staff(UTRECHT))

    assert [a.status_code for a in answers] == [201, 201, 201, 409]
    assert answers[3].json()["code"] == "limit-reached"
    assert again.status_code == 201
    assert elsewhere.status_code == 201
    listed = world.client.get(f"{API}/medewerkers", headers=zeist).json()["items"]
    assert len(listed) == 3


def test_employees_are_listed_in_pages_that_join_up(world):
    zeist = world.staff(ZEIST)
    for _ in range(5):
        world.client.post(f"{API}/medewerkers", json={"did": _random_did()},
                          headers=zeist)
    whole = world.client.get(f"{API}/medewerkers", headers=zeist).json()

    pages, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = world.client.get(f"{API}/medewerkers", headers=zeist,
                                params=params).json()
        pages.append(page["items"])
        cursor = page["nextCursor"]
        if cursor is None:
            break

    assert [len(p) for p in pages] == [2, 2, 1]
    assert [e for p in pages for e in p] == whole["items"]
    assert whole["nextCursor"] is None and len(whole["items"]) == 5


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001},
                                    {"cursor": "nope"}, {"cursor": "A" * 32}])
def test_a_bad_page_of_employees_is_400(world, params):
    answer = world.client.get(f"{API}/medewerkers", headers=world.staff(ZEIST),
                              params=params)

    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
