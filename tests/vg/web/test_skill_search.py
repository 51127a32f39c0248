"""The skill search the pickers' script calls is a JSON route: what it refuses it
refuses as the API does, 400 with problem details naming the parameter."""

from __future__ import annotations

import pytest

from tests.vg.web.test_web_pages import app, browser  # noqa: F401

PROBLEM = "application/problem+json"


@pytest.mark.parametrize("query, named", [
    ({"q": "a" * 5000}, "query.q"),
    ([("q", "ict"), ("q", "x")], "query.q"),
    ({"q": "\x00"}, "query.q"),
    ({"q": "beleid\u202e"}, "query.q"),
    ({"x": "1"}, "query.x"),
])
def test_a_query_the_skill_search_does_not_take_is_a_problem(app, query, named):
    answer = browser(app).get("/vaardigheden", params=query)

    assert answer.status_code == 400
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["code"] == "invalid-input"
    assert named in answer.json()["detail"]


def test_a_plain_query_still_answers_the_skills(app):
    found = browser(app).get("/vaardigheden", params={"q": "beleid"})

    assert found.status_code == 200 and found.json()
