"""A required text (a title, a name) needs a character that shows: white space,
format characters (a zero-width space, a soft hyphen, a word joiner, a byte order
mark) and blank fillers alone are refused naming the field, and nothing is stored."""

from __future__ import annotations

import json

import pytest

from tests.factories import registry_snapshot
from tests.vg.api.world import LD_JSON, UTRECHT

INVISIBLE = [" ", "\u200b", "\u00ad", "\u2060", "\ufeff", " \u200b\u3000",
             "\u3164", "\u0301"]


@pytest.mark.parametrize("text", INVISIBLE)
def test_an_assignment_with_an_invisible_title_is_refused(world, text):
    staff = world.staff(UTRECHT)
    before = registry_snapshot(world.system.registry.engine)

    answer = world.client.post("/api/v1/opdrachten", headers=staff,
                               json={"title": text, "requiredSkills": world.skills(1),
                                     "status": "draft"})

    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert "title" in answer.text
    assert registry_snapshot(world.system.registry.engine) == before


@pytest.mark.parametrize("text", INVISIBLE)
def test_a_group_with_an_invisible_name_is_refused(world, text):
    person = world.holder(world.skills(3))
    before = registry_snapshot(world.system.registry.engine)

    answer = world.client.post("/api/v1/groepen", headers=person.headers,
                               json={"slug": "stille-groep", "name": text, "theme": ""})

    assert answer.status_code == 400, answer.text
    assert "name" in answer.text
    assert registry_snapshot(world.system.registry.engine) == before


@pytest.mark.parametrize("text", INVISIBLE)
def test_a_workcontext_with_an_invisible_name_is_refused(world, text):
    person = world.holder(world.skills(3))
    document = world.client.get("/api/v1/pod/werkcontext",
                                headers=person.headers).json()
    document["name"] = text

    answer = world.client.put("/api/v1/pod/werkcontext", content=json.dumps(document),
                              headers={**person.headers, "Content-Type": LD_JSON})

    assert answer.status_code == 400, answer.text
    assert "name" in answer.text


def test_a_title_with_a_visible_character_among_invisible_ones_is_taken(world):
    answer = world.client.post("/api/v1/opdrachten", headers=world.staff(UTRECHT),
                               json={"title": "\u00adOmgevings\u00adwet",
                                     "requiredSkills": world.skills(1),
                                     "status": "draft"})

    assert answer.status_code == 201, answer.text
