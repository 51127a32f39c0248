"""The assignment feed and alerts computed in the pod, through the HTTP API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from pod.alerts import in_audience
from registry.gate import Signals
from registry.matching import Matcher
from tests.vg.api.world import GRONINGEN, NOW, UTRECHT, ZEIST

API = "/api/v1"


def _fetch(world, person):
    answer = world.client.post(f"{API}/pod/meldingen/ophalingen",
                               headers=person.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _alerts(world, person):
    return world.client.get(f"{API}/pod/meldingen", headers=person.headers).json()


def test_holder_gets_an_alert_with_reasons_without_having_granted_anything(world):
    skills = world.skills()
    sanne = world.holder(skills)
    staff = world.staff(ZEIST)
    fitting = world.assignment(staff, skills[:2], levelMin=3, levelMax=4,
                               hoursPerWeek=16)
    world.assignment(staff, world.skills(10)[5:7])  # nothing in common

    fetched = _fetch(world, sanne)

    assert fetched["fetched"] == 2
    [alert] = world.client.get(f"{API}/pod/meldingen", headers=sanne.headers).json()
    assert alert["assignment"] == fitting and alert["score"] == 85
    assert {r["code"] for r in alert["reasons"]} == {"required-skills", "level-fit",
                                                     "hours-fit"}


def test_no_alert_is_computed_or_logged_on_the_registry_side(world):
    skills = world.skills()
    sanne = world.holder(skills)
    bram = world.holder(world.skills(10)[5:7], employer=GRONINGEN)
    world.assignment(world.staff(), skills)

    as_sanne = world.client.get(f"{API}/opdrachtenfeed", headers=sanne.headers)
    as_bram = world.client.get(f"{API}/opdrachtenfeed", headers=bram.headers)
    _fetch(world, sanne)

    # The feed is the same whoever asks and carries no score or reason.
    assert as_sanne.json() == as_bram.json()
    [item] = as_sanne.json()["items"]
    assert not {"score", "reasons", "fit"} & set(item)
    # The registry holds nothing about either holder, and logged nothing.
    with world.system.registry.engine.connect() as conn:
        assert conn.execute(text("select count(*) from holder")).scalar() == 0
        assert conn.execute(text("select count(*) from disclosure")).scalar() == 0
    assert world.audit() == []
    assert len(_alerts(world, sanne)) == 1


def test_assignment_outside_the_holders_audience_gives_no_alert(world):
    skills = world.skills()
    sanne = world.holder(skills, employer=UTRECHT)
    world.assignment(world.staff(GRONINGEN), skills, circle="own")
    neighbours = world.assignment(world.staff(ZEIST), skills, circle="neighbours")

    _fetch(world, sanne)

    alerts = world.client.get(f"{API}/pod/meldingen", headers=sanne.headers).json()
    assert [a["assignment"] for a in alerts] == [neighbours]


def test_alerts_below_the_holders_threshold_are_left_out(world):
    skills = world.skills(4)
    sanne = world.holder(skills[:2])
    staff = world.staff()
    world.assignment(staff, skills)  # half the required skills: 30 points
    settings = world.client.put(f"{API}/pod/meldingen/instellingen",
                                json={"frequency": "immediately", "minScore": 40},
                                headers=sanne.headers)
    assert settings.status_code == 200

    assert _fetch(world, sanne)["new"] == []

    world.client.put(f"{API}/pod/meldingen/instellingen",
                     json={"frequency": "immediately", "minScore": 20},
                     headers=sanne.headers)
    world.assignment(staff, skills)
    [alert] = _fetch(world, sanne)["new"]
    assert alert["score"] == 30


def test_the_cursor_brings_only_new_assignments_and_frequency_is_respected(world):
    skills = world.skills()
    sanne = world.holder(skills)
    staff = world.staff()
    world.assignment(staff, skills)
    assert len(_fetch(world, sanne)["new"]) == 1
    later = world.assignment(staff, skills)

    too_soon = _fetch(world, sanne)
    world.clock["now"] = NOW + timedelta(days=1)
    world.login(sanne)
    due = _fetch(world, sanne)

    assert too_soon["fetched"] == 0 and too_soon["new"] == []
    assert [a["assignment"] for a in due["new"]] == [later]
    assert len(_alerts(world, sanne)) == 2


def test_bad_alert_settings_are_400_and_change_nothing(world):
    sanne = world.holder(world.skills())
    url = f"{API}/pod/meldingen/instellingen"
    before = world.client.get(url, headers=sanne.headers).json()

    answer = world.client.put(url, json={"frequency": "hourly", "minScore": 101},
                              headers=sanne.headers)

    assert answer.status_code == 400
    assert len(answer.json()["errors"]) == 2
    assert world.client.get(url, headers=sanne.headers).json() == before


def test_the_alert_file_in_the_pod_is_ciphertext(world):
    skills = world.skills()
    sanne = world.holder(skills)
    world.assignment(world.staff(), skills)
    _fetch(world, sanne)

    [path] = list(world.system.settings.pods_dir.glob("*/alerts.bin"))
    assert b"Omgevingswet" not in path.read_bytes()
    assert b"required-skills" not in path.read_bytes()


def test_feed_and_alerts_need_a_holder_session(world):
    staff = world.staff()
    assert world.client.get(f"{API}/opdrachtenfeed", headers=staff).status_code == 401
    assert world.client.get(f"{API}/pod/meldingen").status_code == 401


def test_weighted_optional_skills_in_the_feed_give_an_alert_not_an_error(world):
    skills = world.skills(6)
    sanne = world.holder(skills[:3])
    staff = world.staff()
    fitting = world.assignment(staff, skills[:2], optionalSkills=[
        {"skill": skills[2], "weight": 3}, skills[5]])

    fetched = _fetch(world, sanne)

    [alert] = fetched["new"]
    optional = next(r for r in alert["reasons"] if r["code"] == "optional-skills")
    # weight 3 of 4 matched: 15 * 3 / 4, rounded
    assert alert["assignment"] == fitting
    assert optional["matched"] == [skills[2]] and optional["points"] == 11


def test_feed_pages_follow_the_next_cursor_it_answers(world):
    skills = world.skills()
    sanne = world.holder(skills)
    staff = world.staff()
    made = [world.assignment(staff, skills[:1]) for _ in range(3)]

    first = world.client.get(f"{API}/opdrachtenfeed?limit=2", headers=sanne.headers).json()
    rest = world.client.get(f"{API}/opdrachtenfeed?limit=2&cursor={first['nextCursor']}",
                            headers=sanne.headers).json()

    seen = [item["id"] for item in first["items"] + rest["items"]]
    assert sorted(seen) == sorted(made) and len(set(seen)) == 3


def test_feed_cursor_past_any_id_is_400_problem(world):
    sanne = world.holder(world.skills())
    for cursor in ("9223372036854775808", "99999999999999999999999", "-1", "zzz"):
        answer = world.client.get(f"{API}/opdrachtenfeed?cursor={cursor}",
                                  headers=sanne.headers)
        assert answer.status_code == 400, (cursor, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"


def _status(world, staff, assignment, action):
    answer = world.client.post(f"{API}/opdrachten/{assignment}/status", headers=staff,
                               json={"action": action})
    assert answer.status_code == 200, answer.text


def _settle_immediately(world, person):
    answer = world.client.put(f"{API}/pod/meldingen/instellingen", headers=person.headers,
                              json={"frequency": "immediately", "minScore": 0})
    assert answer.status_code == 200


def test_an_assignment_drafted_first_and_opened_later_reaches_the_pod(world):
    skills = world.skills()
    sanne = world.holder(skills)
    _settle_immediately(world, sanne)
    staff = world.staff()
    drafted = world.assignment(staff, skills, status="draft")
    opened = world.assignment(staff, skills)
    assert [a["assignment"] for a in _fetch(world, sanne)["new"]] == [opened]

    _status(world, staff, drafted, "open")

    assert [a["assignment"] for a in _fetch(world, sanne)["new"]] == [drafted]
    assert sorted(a["assignment"] for a in _alerts(world, sanne)) == sorted(
        [drafted, opened])


def test_an_assignment_opened_again_after_a_pause_reaches_the_pod_once(world):
    skills = world.skills()
    sanne = world.holder(skills)
    _settle_immediately(world, sanne)
    staff = world.staff()
    paused = world.assignment(staff, skills)
    _status(world, staff, paused, "pause")
    later = world.assignment(staff, skills)
    assert [a["assignment"] for a in _fetch(world, sanne)["new"]] == [later]

    _status(world, staff, paused, "open")

    assert [a["assignment"] for a in _fetch(world, sanne)["new"]] == [paused]
    assert sorted(a["assignment"] for a in _alerts(world, sanne)) == sorted(
        [paused, later])


def test_the_feed_answers_no_next_cursor_on_its_last_page(world):
    skills = world.skills()
    sanne = world.holder(skills)
    staff = world.staff()
    made = [world.assignment(staff, skills[:1]) for _ in range(3)]

    def get(query):
        answer = world.client.get(f"{API}/opdrachtenfeed?{query}", headers=sanne.headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    first, whole = get("limit=2"), get("limit=3")
    rest = get(f"limit=2&cursor={first['nextCursor']}")
    resumed = get(f"cursor={whole['items'][-1]['feedPosition']}")

    assert first["nextCursor"] is not None
    assert [i["id"] for i in first["items"] + rest["items"]] == made
    assert rest["nextCursor"] is None and whole["nextCursor"] is None
    assert resumed == {"items": [], "nextCursor": None}


AMSTERDAM = "GM0363"
EVERY_CIRCLE = [
    {"circle": "own"},
    {"circle": "neighbours"},
    {"circle": "neighbours", "location": AMSTERDAM},
    {"circle": "province"},
    {"circle": "province", "location": AMSTERDAM},
    {"circle": "corop", "location": AMSTERDAM},
    {"circle": "safety_region", "location": UTRECHT},
    {"circle": "municipalities"},
    {"circle": "sector", "circleSector": "water_board"},
    {"circle": "sector", "circleSector": "province"},
    {"circle": "national"},
    {"circle": "national", "freelancers": False},
    {"circle": "municipalities", "freelancers": True},
]


def _ranked_in_circle(world, assignment: int, employer: str | None) -> bool:
    """Whether the registry's ranking puts a holder with this disclosed employer
    (None: a freelancer) inside the assignment's circle."""
    registry = world.system.registry
    stored = registry.assignments.get(UTRECHT, assignment)
    matcher = Matcher(stored, registry.relations, registry.circles)
    return matcher.in_circle(Signals("holder", frozenset(), employer, None, None,
                                     None, None))


@pytest.mark.parametrize("circle", EVERY_CIRCLE, ids=lambda c: "-".join(
    str(v) for v in c.values()))
def test_the_feed_audience_holds_exactly_whom_the_ranking_puts_in_the_circle(
        world, circle):
    sanne = world.holder(world.skills())
    assignment = world.assignment(world.staff(UTRECHT), world.skills(), **circle)
    [item] = world.client.get(f"{API}/opdrachtenfeed",
                              headers=sanne.headers).json()["items"]
    organisations = world.system.reference.organisations

    in_feed = {code for code, org in organisations.items()
               if in_audience({"worksFor": org.tooi_uri}, item)}
    ranked = {code for code in organisations
              if _ranked_in_circle(world, assignment, code)}

    assert item["id"] == assignment
    assert in_feed == ranked
    assert in_audience({}, item) == _ranked_in_circle(world, assignment, None)


def test_a_holder_ranked_for_an_assignment_of_every_municipality_is_alerted(world):
    skills = world.skills()
    sanne = world.holder(skills, employer=GRONINGEN)
    wide = world.assignment(world.staff(UTRECHT), skills, circle="municipalities")

    _fetch(world, sanne)

    assert [a["assignment"] for a in _alerts(world, sanne)] == [wide]
