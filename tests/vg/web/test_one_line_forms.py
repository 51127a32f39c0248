"""A name on a page's form is one line, as in the API: a line break in it is
refused with the page's error in the page's language, and nothing changes."""

from __future__ import annotations

import pytest

from tests.factories import UTRECHT
from tests.vg.web.test_web_pages import app, signed_in_holder  # noqa: F401

BREAKS = ["Groep\nnaam", "Groep\tnaam", "Groep\u2028naam"]


@pytest.mark.parametrize("text", BREAKS)
def test_a_group_name_of_two_lines_is_refused_on_the_page(app, text):  # noqa: F811
    holder, token = signed_in_holder(app)

    answer = holder.post("/mijn/kennisdelen/groep", data={
        "csrf": token, "actie": "aanmaken", "slug": "twee-regels", "naam": text,
        "thema": "een\ntwee"})

    assert answer.status_code == 400
    assert "moet één regel zijn" in answer.text
    assert "Er zijn nog geen groepen." in holder.get("/mijn/kennisdelen").text


@pytest.mark.parametrize("text", BREAKS)
def test_a_workcontext_name_of_two_lines_is_refused_on_the_page(app, text):  # noqa: F811,E501
    holder, token = signed_in_holder(app)
    skills = sorted(app.state.system.reference.skills)[:3]

    answer = holder.post("/mijn/werkcontext", data={
        "csrf": token, "actie": "opslaan", "naam": text,
        "email": "sanne@voorbeeld.nl", "werkgever": UTRECHT, "vaardigheid": skills})

    assert answer.status_code == 400
    assert "moet één regel zijn" in answer.text
    assert "Sanne de Boer" in holder.get("/mijn/werkcontext").text
