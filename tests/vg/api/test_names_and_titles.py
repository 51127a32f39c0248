"""A name or a title (an assignment's title, a group's name, the Workcontext's name)
is one line and shows a character: a line break in it, or only white space,
format characters (a zero-width space, a soft hyphen, a word joiner, a byte order
mark) and blank fillers, is refused naming the field and the rule, and nothing is
stored. A description keeps its line breaks; one visible character is enough."""

from __future__ import annotations

import json

import pytest

from schemas import ONE_LINE
from tests.factories import registry_snapshot
from tests.vg.api.world import LD_JSON, UTRECHT

API = "/api/v1"
TWO_LINES = ["Groep\nnaam", "Groep\tnaam", "Groep\rnaam", "Groep\u2028naam"]
INVISIBLE = [" ", "\u200b", "\u00ad", "\u2060", "\ufeff", " \u200b\u3000",
             "\u3164", "\u0301"]
VISIBLE = "one of them visible"
REFUSED = ([pytest.param(text, ONE_LINE, id=f"two-lines-{n}")
            for n, text in enumerate(TWO_LINES)]
           + [pytest.param(text, VISIBLE, id=f"invisible-{n}")
              for n, text in enumerate(INVISIBLE)])


def _assignment_title(world):
    """How a title is sent, and what a refusal must leave as it was."""
    staff = world.staff(UTRECHT)

    def send(text):
        return world.client.post(f"{API}/opdrachten", headers=staff, json={
            "title": text, "requiredSkills": world.skills(1), "status": "draft"})
    return send, lambda: registry_snapshot(world.system.registry.engine)


def _group_name(world):
    person = world.holder(world.skills(3))

    def send(text):
        return world.client.post(f"{API}/groepen", headers=person.headers, json={
            "slug": "een-groep", "name": text, "theme": "een\ntwee"})
    return send, lambda: registry_snapshot(world.system.registry.engine)


def _workcontext_name(world):
    person = world.holder(world.skills(3))
    url = f"{API}/pod/werkcontext"

    def send(text):
        document = world.client.get(url, headers=person.headers).json()
        return world.client.put(url, content=json.dumps({**document, "name": text}),
                                headers={**person.headers, "Content-Type": LD_JSON})
    return send, lambda: (world.client.get(url, headers=person.headers).json(),
                          registry_snapshot(world.system.registry.engine))


PLACES = [pytest.param("title", _assignment_title, id="assignment-title"),
          pytest.param("name", _group_name, id="group-name"),
          pytest.param("name", _workcontext_name, id="workcontext-name")]


@pytest.mark.parametrize("text, rule", REFUSED)
@pytest.mark.parametrize("field, place", PLACES)
def test_a_name_or_title_of_two_lines_or_of_nothing_visible_is_refused(
        world, field, place, text, rule):
    send, state = place(world)
    before = state()

    answer = send(text)

    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    detail = answer.json()["detail"]
    assert field in detail and rule in detail
    assert state() == before


@pytest.mark.parametrize("title, description", [
    ("Omgevingswet", "Eerste regel.\n\tTweede."),
    ("\u00adOmgevings\u00adwet", "")])
def test_an_assignment_takes_a_visible_title_and_a_description_of_lines(
        world, title, description):
    answer = world.client.post(f"{API}/opdrachten", headers=world.staff(UTRECHT),
                               json={"title": title, "description": description,
                                     "requiredSkills": world.skills(1),
                                     "status": "draft"})

    assert answer.status_code == 201, answer.text
