"""A pass on the candidate page and the API's pass mean the same thing: a match is
never made with a candidate the assignment's candidate list leaves out."""

from __future__ import annotations

from tests.factories import NOW
from tests.vg.web.test_form_refusals import assignment_with_candidate
from tests.vg.web.test_web_pages import app, csrf  # noqa: F401


def test_a_like_after_a_pass_on_the_page_makes_no_match_outside_the_candidates(
        app):  # noqa: F811
    staff, requester, assignment, subject = assignment_with_candidate(app)
    system = app.state.system
    system.work.swipes.by_holder(subject, assignment.id, "like", NOW)
    token = csrf(staff.get("/organisatie"))

    name = system.org_pseudonyms.shown(requester.organisation, subject)
    for choice in ("pass", "like"):
        answer = staff.post(f"/organisatie/opdrachten/{assignment.id}/keuze", data={
            "csrf": token, "kandidaat": name, "keuze": choice})
        assert answer.status_code in (200, 303, 404), answer.text[:300]

    listed = {c.profile.pseudonym for c in system.registry.candidates(
        requester, assignment.id, NOW, "2" * 32, 10).candidates}
    matched = set(system.work.swipes.matches(requester, assignment.id, NOW))
    assert matched <= listed, (matched, listed)
