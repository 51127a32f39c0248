"""Every instant the API writes has one form, RFC 3339 in UTC with a ``Z`` (as
grants, versions and sessions are written): a client parses one form, whatever
the route. Dates (an assignment's period) stay dates."""

from __future__ import annotations

import base64
import re

from tests.vg.api.test_teams import team  # noqa: F401
from tests.vg.api.world import UTRECHT

API = "/api/v1"
INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z\Z")
LOOKS_LIKE_AN_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T")


def _instants(value):
    """Every text in a JSON value that is written as a moment in time."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _instants(item)
    elif isinstance(value, list):
        for item in value:
            yield from _instants(item)
    elif isinstance(value, str) and LOOKS_LIKE_AN_INSTANT.match(value):
        yield value


def _all_in_one_form(*answers):
    found = [text for answer in answers for text in _instants(answer.json())]
    assert found
    assert [text for text in found if not INSTANT.match(text)] == []


def test_employment_and_assignment_instants_are_written_with_z(world):
    staff = world.staff(UTRECHT)
    person = world.holder(world.skills(), attested=False)

    attested = world.client.post(f"{API}/medewerkers", json={"did": person.did},
                                 headers=staff)
    listed = world.client.get(f"{API}/medewerkers", headers=staff)
    assignment = world.client.post(f"{API}/opdrachten", headers=staff, json={
        "title": "Omgevingswet invoeren", "requiredSkills": world.skills(1),
        "circle": "national"})
    read = world.client.get(f"{API}/opdrachten/{assignment.json()['id']}",
                            headers=staff)

    assert attested.status_code == 201 and assignment.status_code == 201
    _all_in_one_form(attested, listed, assignment, read)


def test_team_product_and_alert_instants_are_written_with_z(world, team):  # noqa: F811
    name = team["name"]
    world.client.post(f"{API}/pod/teams/{name}/producten",
                      headers=team["bram"].headers,
                      json={"title": "Notulen", "fileName": "notulen.txt",
                            "mediaType": "text/plain",
                            "content": base64.b64encode(b"besluit 1").decode()})
    page = world.client.get(f"{API}/teams/{name}", headers=team["staff"])
    fetched = world.client.post(f"{API}/pod/meldingen/ophalingen",
                                headers=team["sanne"].headers)

    assert page.status_code == 200 and fetched.status_code == 200, fetched.text
    _all_in_one_form(page, fetched)
