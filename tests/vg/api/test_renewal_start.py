"""A renewal gives a grant a new end date and nothing else: a grant the holder let
start at a later date still starts then, and no organisation sees the fields
before it."""

from __future__ import annotations

from datetime import timedelta

from tests.vg.api.world import NOW, UTRECHT

API = "/api/v1"
START = NOW + timedelta(days=60)


def _future_grant(world, person, skills) -> str:
    body = {"audience": {"kind": "all_municipalities"}, "purposes": ["matching"],
            "fields": ["skills"], "validFrom": START.isoformat(),
            "validUntil": (START + timedelta(days=30)).isoformat()}
    answer = world.client.post(f"{API}/pod/toestemmingen", json=body,
                               headers=person.headers)
    assert answer.status_code == 201, answer.text
    assert answer.json()["live"] is False
    return answer.json()["id"]


def test_renewing_a_grant_that_starts_later_keeps_its_start(world):
    skills = world.skills()
    sanne = world.holder(skills)
    grant = _future_grant(world, sanne, skills)

    renewed = world.client.post(
        f"{API}/pod/toestemmingen/{grant}/verlenging", headers=sanne.headers,
        json={"validUntil": (START + timedelta(days=90)).isoformat()})

    assert renewed.status_code == 201, renewed.text
    assert renewed.json()["validFrom"] == START.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert renewed.json()["live"] is False


def test_no_organisation_sees_a_renewed_grant_before_its_start(world):
    skills = world.skills()
    sanne = world.holder(skills)
    grant = _future_grant(world, sanne, skills)
    world.client.post(f"{API}/pod/toestemmingen/{grant}/verlenging",
                      headers=sanne.headers,
                      json={"validUntil": (START + timedelta(days=90)).isoformat()})
    staff = world.staff(UTRECHT)
    job = world.assignment(staff, skills)

    page = world.client.get(f"{API}/opdrachten/{job}/kandidaten", headers=staff)

    assert page.status_code == 200
    assert page.json()["total"] == 0, "shown before the start the holder chose"


def test_a_renewal_that_ends_before_the_start_is_refused_and_changes_nothing(world):
    skills = world.skills()
    sanne = world.holder(skills)
    grant = _future_grant(world, sanne, skills)
    before = world.client.get(f"{API}/pod/toestemmingen", headers=sanne.headers).json()

    refused = world.client.post(
        f"{API}/pod/toestemmingen/{grant}/verlenging", headers=sanne.headers,
        json={"validUntil": (START - timedelta(days=10)).isoformat()})

    assert refused.status_code == 400, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "validUntil must be after validFrom" in refused.text
    after = world.client.get(f"{API}/pod/toestemmingen", headers=sanne.headers).json()
    assert after == before


def test_renewing_a_grant_in_its_period_gives_one_that_is_live_from_now(world):
    skills = world.skills()
    sanne = world.holder(skills)
    grant = world.grant(sanne, ["skills"])

    renewed = world.client.post(
        f"{API}/pod/toestemmingen/{grant}/verlenging", headers=sanne.headers,
        json={"validUntil": (NOW + timedelta(days=400)).isoformat()})

    assert renewed.status_code == 201, renewed.text
    assert renewed.json()["validFrom"] == NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert renewed.json()["live"] is True
