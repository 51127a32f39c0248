"""The assignment routes: requirements in, lifecycle moves, passes and cursor paging,
with problem details for every refusal."""

from __future__ import annotations

from tests.vg.test_api import UTRECHT, _grant, _holder, _key, _skills
from tests.vg.test_api import api  # noqa: F401  (the fixture)

PROBLEM = "application/problem+json"


def _create(api, headers, **extra):
    body = {"title": "Wijkaanpak", "requiredSkills": _skills(api, 1),
            "optionalSkills": [{"skill": _skills(api, 2)[1], "weight": 3}],
            "periodStart": "2027-01-01", "periodEnd": "2027-06-30",
            "circle": "neighbours", "functionFamily": "realisatie", **extra}
    return api.post("/api/v1/opdrachten", headers=headers, json=body)


def test_a_draft_assignment_is_opened_paused_and_closed_over_http(api):
    staff = _key(api, UTRECHT)
    created = _create(api, staff, status="draft")
    assert created.status_code == 201, created.text
    job = created.json()
    assert job["status"] == "draft" and job["optionalSkills"][0]["weight"] == 3

    moves = [api.post(f"/api/v1/opdrachten/{job['id']}/status", headers=staff,
                      json={"action": a}).json()["status"]
             for a in ("open", "pause", "close")]

    assert moves == ["open", "paused", "closed"]


def test_a_move_the_lifecycle_forbids_is_a_409_problem(api):
    staff = _key(api, UTRECHT)
    job = _create(api, staff).json()

    refused = api.post(f"/api/v1/opdrachten/{job['id']}/status", headers=staff,
                       json={"action": "open"})

    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert refused.json()["code"] == "invalid-transition"


def test_bad_requirements_are_a_400_problem_listing_each(api):
    staff = _key(api, UTRECHT)

    refused = _create(api, staff, periodStart="2027-07-01", location="GM9999")

    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith(PROBLEM)


def test_a_passed_candidate_is_left_out_and_a_bad_cursor_is_refused(api):
    _, holder = _holder(api, _skills(api, 1))
    _grant(api, holder, ["skills", "employer"])
    staff = _key(api, UTRECHT)
    job = _create(api, staff).json()
    url = f"/api/v1/opdrachten/{job['id']}/kandidaten"
    first = api.get(url, headers=staff).json()
    assert first["total"] == 1 and first["nextCursor"] is None
    subject = first["candidates"][0]["subject"]

    passed = api.post(f"/api/v1/opdrachten/{job['id']}/gepasseerd", headers=staff,
                      json={"subject": subject})
    after = api.get(url, headers=staff).json()
    bad = api.get(url + "?cursor=xyz", headers=staff)

    assert passed.status_code == 204 and after["total"] == 0
    assert bad.status_code == 400 and bad.json()["code"] == "invalid-cursor"


def test_the_published_description_says_function_family_and_field_do_not_rank(api):
    schema = api.get("/api/v1/openapi.json").json()["components"]["schemas"]
    properties = schema["AssignmentCreate"]["properties"]

    for name in ("functionFamily", "fieldOfWork"):
        assert "does not rank or filter candidates" in properties[name]["description"]
