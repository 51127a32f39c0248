"""A form that picks skills takes as many as the API takes for the same thing, shows
every skill it saves back, and names its one limit for every count above it."""

from __future__ import annotations

import re

import pytest

from schemas import MAX_SKILLS, WorkcontextValidator
from vg.web import cookies

from tests.factories import UTRECHT
from tests.vg.web.test_web_pages import (  # noqa: F401
    app,
    csrf,
    signed_in_holder,
    signed_in_organisation,
)

SKILLS = "https://schema.org/skills"


def session(holder) -> dict:
    return {"Authorization": f"Bearer {holder.cookies[cookies.SESSION]}"}


def stored_skills(holder) -> list[str]:
    return holder.get("/api/v1/pod/werkcontext", headers=session(holder)).json()[
        "skills"]


def shown_skills(holder) -> list[str]:
    page = holder.get("/mijn/werkcontext").text
    return re.findall(r'type="checkbox" name="vaardigheid" value="([^"]+)"[^>]* checked',
                      page)


def test_the_workcontext_skill_limit_is_the_shapes_max_count():
    shape = next(s for s in WorkcontextValidator().shapes
                 if any(p.path == SKILLS for p in s.properties))
    skills = next(p for p in shape.properties if p.path == SKILLS)

    assert MAX_SKILLS == skills.max_count


def test_a_web_save_keeps_every_skill_the_api_stored(app):  # noqa: F811
    holder, token = signed_in_holder(app)
    every = sorted(app.state.system.reference.skills)[:MAX_SKILLS]
    document = holder.get("/api/v1/pod/werkcontext", headers=session(holder)).json()
    put = holder.put("/api/v1/pod/werkcontext", headers=session(holder),
                     json={**document, "skills": every})
    assert put.status_code == 200, put.text

    shown = shown_skills(holder)
    saved = holder.post("/mijn/werkcontext", data={
        "csrf": token, "actie": "opslaan", "naam": "Sanne de Boer",
        "telefoon": "030 123 4567", "werkgever": UTRECHT, "vaardigheid": shown})

    assert shown == every
    assert saved.status_code == 303
    assert stored_skills(holder) == every


@pytest.mark.parametrize("count", [MAX_SKILLS + 1, 150, 190])
def test_more_skills_than_the_api_takes_are_refused_with_that_one_limit(
        app, count):  # noqa: F811
    holder, token = signed_in_holder(app)
    before = stored_skills(holder)
    many = sorted(app.state.system.reference.skills)[:count]

    answer = holder.post("/mijn/werkcontext", data={
        "csrf": token, "actie": "opslaan", "naam": "Sanne de Boer",
        "werkgever": UTRECHT, "vaardigheid": many})
    api = holder.put("/api/v1/pod/werkcontext", headers=session(holder), json={
        **holder.get("/api/v1/pod/werkcontext", headers=session(holder)).json(),
        "skills": many})

    assert answer.status_code == 400
    assert f"Kies hoogstens {MAX_SKILLS} vaardigheden." in answer.text
    assert "keuzes" not in answer.text
    assert api.status_code == 400
    assert stored_skills(holder) == before


def test_a_form_with_more_fields_than_any_page_has_is_refused_with_a_reason(app):  # noqa: F811,E501
    holder, token = signed_in_holder(app)

    answer = holder.post("/mijn/toestemmingen", data={
        "csrf": token, "publiek": "all_municipalities", "doel": "matching",
        "veld": ["skills"] * 1000, "tot": "2027-01-01"})

    assert answer.status_code == 400
    assert "Het formulier bevat meer dan 200 velden" in answer.text
    assert "Er ging iets mis" not in answer.text


def assignment_form(app, staff, required: int) -> dict:  # noqa: F811
    return {"csrf": csrf(staff.get("/organisatie/opdrachten/nieuw")),
            "actie": "opslaan", "titel": "Omgevingswet", "kring": "neighbours",
            "plaats": UTRECHT,
            "vereist": sorted(app.state.system.reference.skills)[:required]}


def assignment_body(app, required: int) -> dict:  # noqa: F811
    return {"title": "Omgevingswet", "circle": "neighbours", "location": UTRECHT,
            "requiredSkills": sorted(app.state.system.reference.skills)[:required]}


def test_the_assignment_form_and_api_take_the_same_number_of_skills(app):  # noqa: F811
    from registry.assignments import MAX_SKILLS as most
    staff = signed_in_organisation(app)
    key = {"Authorization": f"Bearer {staff.key}"}

    web_most = staff.post("/organisatie/opdrachten/nieuw",
                          data=assignment_form(app, staff, most))
    web_over = staff.post("/organisatie/opdrachten/nieuw",
                          data=assignment_form(app, staff, most + 1))
    api_most = staff.post("/api/v1/opdrachten", headers=key,
                          json=assignment_body(app, most))
    api_over = staff.post("/api/v1/opdrachten", headers=key,
                          json=assignment_body(app, most + 1))

    assert (web_most.status_code, api_most.status_code) == (303, 201), api_most.text
    assert (web_over.status_code, api_over.status_code) == (400, 400)
    assert f"Kies hoogstens {most} vaardigheden." in web_over.text


def test_the_colleague_search_form_and_api_take_the_same_number_of_skills(app):  # noqa: F811,E501
    from registry.peers import MAX_SKILLS as most
    holder, token = signed_in_holder(app)
    skills = sorted(app.state.system.reference.skills)

    web_over = holder.post("/mijn/kennisdelen/collegas", data={
        "csrf": token, "actie": "vinden", "vaardigheid": skills[:most + 1]})
    api_over = holder.get("/api/v1/collegas", headers=session(holder),
                          params={"vaardigheid": skills[:most + 1]})
    api_most = holder.get("/api/v1/collegas", headers=session(holder),
                          params={"vaardigheid": skills[:most]})

    assert web_over.status_code == 400
    assert f"Kies hoogstens {most} vaardigheden." in web_over.text
    assert (api_most.status_code, api_over.status_code) == (200, 400)
