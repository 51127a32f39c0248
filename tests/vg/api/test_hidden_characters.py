"""A Workcontext and a title hold what their refusals promise: no list names a value
twice, a name or a title holds no character that hides (a noncharacter, a tag
character, a private-use or a zero-width format character), an e-mail address is
one plain address, and hours per week are bounded as an assignment's are. Each is
refused naming the field, and nothing is stored."""

from __future__ import annotations

import json

import pytest

from tests.factories import registry_snapshot
from tests.vg.api.world import LD_JSON, UTRECHT

# (The controls of writing direction are refused by the parser already, before
# any field is looked at: schemas.holds_forbidden_characters.)
HIDDEN = ["A\U000E0041", "A\ufffe", "A\U0001FFFF", "A\ufdd0", "A\ue000",
          "A\U000F0000", "A\u200dB", "A\u200cB", "A\u200bB", "A\u2060B"]


def _names(answer, field: str) -> bool:
    """Whether a refusal's problems name ``field``."""
    problem = answer.json()
    return any(field in text for text in [problem.get("detail", ""),
                                          *problem.get("errors", [])])


def _put(world, person, document):
    return world.client.put("/api/v1/pod/werkcontext", content=json.dumps(document),
                            headers={**person.headers, "Content-Type": LD_JSON})


def _own(world, person):
    return world.client.get("/api/v1/pod/werkcontext", headers=person.headers).json()


def _refused(world, person, change, field):
    document = _own(world, person)
    change(document)

    answer = _put(world, person, document)

    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert _names(answer, field)
    assert _own(world, person) != document


@pytest.mark.parametrize("text", HIDDEN)
def test_a_workcontext_name_with_a_hidden_character_is_refused(world, text):
    person = world.holder(world.skills(3))

    _refused(world, person, lambda d: d.update(name=text), "name")


@pytest.mark.parametrize("text", HIDDEN)
def test_a_level_name_with_a_hidden_character_is_refused(world, text):
    person = world.holder(world.skills(3))

    _refused(world, person,
             lambda d: d["functionLevel"].update(levelName=text), "levelName")


def test_a_workcontext_naming_a_skill_twice_is_refused(world):
    person = world.holder(world.skills(3))

    _refused(world, person, lambda d: d.update(skills=d["skills"][:1] * 2), "skills")


@pytest.mark.parametrize("address", ["mailto:a@b.nl", "javascript:x//@a.nl",
                                     "<a@b.nl>", "a@b.nl,c@d.nl", "\"a b\"@c.nl",
                                     "a@b..nl", "a@-b.nl", "a@b.nl."])
def test_an_email_that_is_not_one_plain_address_is_refused(world, address):
    person = world.holder(world.skills(3))

    _refused(world, person, lambda d: d.update(email=address), "email")


def test_a_plain_address_is_taken(world):
    person = world.holder(world.skills(3))
    document = _own(world, person)
    document["email"] = "j.de-vries+werk@gemeente.utrecht.nl"

    assert _put(world, person, document).status_code == 200


@pytest.mark.parametrize("hours", [0, 41])
def test_hours_per_week_outside_an_assignments_bounds_are_refused(world, hours):
    person = world.holder(world.skills(3))

    _refused(world, person,
             lambda d: d.setdefault("availability", {}).update(hoursPerWeek=hours),
             "hoursPerWeek")


def test_a_name_in_any_script_with_marks_is_taken(world):
    person = world.holder(world.skills(3))
    document = _own(world, person)
    document["name"] = "Zoë Çelik-Nguyễn 王"

    assert _put(world, person, document).status_code == 200


@pytest.mark.parametrize("name", ["Mahsa Mohammadi-خانه‌ها",
                                  "क्‍षिति"])
def test_a_name_written_with_joiners_is_taken(world, name):
    person = world.holder(world.skills(3))
    document = _own(world, person)
    document["name"] = name

    assert _put(world, person, document).status_code == 200
    assert _own(world, person)["name"] == name


@pytest.mark.parametrize("text", HIDDEN)
def test_an_assignment_title_with_a_hidden_character_is_refused(world, text):
    staff = world.staff(UTRECHT)
    before = registry_snapshot(world.system.registry.engine)

    answer = world.client.post("/api/v1/opdrachten", headers=staff,
                               json={"title": text, "requiredSkills": world.skills(1),
                                     "status": "draft"})

    assert answer.status_code == 400, answer.text
    assert _names(answer, "title")
    assert registry_snapshot(world.system.registry.engine) == before


@pytest.mark.parametrize("text", HIDDEN)
def test_a_group_name_with_a_hidden_character_is_refused(world, text):
    person = world.holder(world.skills(3))
    before = registry_snapshot(world.system.registry.engine)

    answer = world.client.post("/api/v1/groepen", headers=person.headers,
                               json={"slug": "verborgen-groep", "name": text,
                                     "theme": ""})

    assert answer.status_code == 400, answer.text
    assert _names(answer, "name")
    assert registry_snapshot(world.system.registry.engine) == before
