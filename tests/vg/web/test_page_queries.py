"""A page's query parameters hold to the rule of every text the project takes: a
control or direction character is refused with a page that says so in the
visitor's language, and the organisation's teams are searched by name."""

from __future__ import annotations

import pytest

from tests.vg.web.test_web_pages import (  # noqa: F401
    app,
    csrf,
    signed_in_holder,
    signed_in_organisation,
)

DUTCH = "stuurteken"
ENGLISH = "control character"


def _in_english(client) -> None:
    token = csrf(client.get("/organisatie"))
    client.post("/taal", data={"csrf": token, "taal": "en", "terug": "/"})


@pytest.mark.parametrize("path", [
    "/organisatie/teams?zoek=omgevings%E2%80%AEwet",
    "/organisatie/teams?zoek=a%07b",
    "/organisatie/kaart?plaats=GM%E2%81%A60344",
])
def test_an_organisation_page_refuses_a_query_with_a_control_character(
        app, path):  # noqa: F811
    staff = signed_in_organisation(app)

    dutch = staff.get(path)
    _in_english(staff)
    english = staff.get(path)

    assert dutch.status_code == english.status_code == 400
    assert DUTCH in dutch.text and ENGLISH in english.text
    assert "\u202e" not in dutch.text and "\x07" not in dutch.text


def test_a_holder_page_refuses_a_query_with_a_direction_character(app):  # noqa: F811
    holder, _ = signed_in_holder(app)

    answer = holder.get("/mijn/teams/wijkteam?organisatie=%E2%80%AE")

    assert answer.status_code == 400 and DUTCH in answer.text


def test_the_organisation_s_teams_are_searched_by_name(app):  # noqa: F811
    staff = signed_in_organisation(app)

    found = staff.get("/organisatie/teams?zoek=geen-team-heet-zo")

    assert found.status_code == 200
    assert 'name="zoek"' in found.text and 'value="geen-team-heet-zo"' in found.text
