"""A project leader sees a candidate's intro video on the card when the candidate
granted it, and plays it through the organisation's session, by byte ranges."""

from __future__ import annotations

import re

from registry import AssignmentSpec
from tests.vg.web.test_web_pages import app, signed_in_holder, signed_in_organisation  # noqa: F401
from vg.web import cookies

VIDEO = bytes(range(256)) * 512  # 128 KiB: two chunks


def holder_with_video(app, fields):  # noqa: F811
    holder, token = signed_in_holder(app)
    stored = holder.put("/mijn/video", content=VIDEO, headers={
        "Content-Type": "video/webm", "X-CSRF-Token": token})
    assert stored.status_code == 200
    granted = holder.post("/mijn/toestemmingen", data={
        "csrf": token, "publiek": "employer_and_neighbours", "doel": "matching",
        "veld": fields, "tot": "2027-06-30"})
    assert granted.status_code == 303, granted.text
    return holder, token


def card(app, staff):  # noqa: F811
    system = app.state.system
    skills = sorted(system.reference.skills)[:1]
    requester = system.registry.access.authenticate(staff.key)
    assignment = system.registry.create_assignment(
        requester, AssignmentSpec("Omgevingswet", "", tuple(skills)),
        app.state.clock(), "open")
    return staff.get(f"/organisatie/opdrachten/{assignment.id}")


def test_the_card_plays_the_granted_video_by_ranges(app):  # noqa: F811
    holder, _ = holder_with_video(app, ["skills", "intro_video"])
    staff = signed_in_organisation(app)

    shown = card(app, staff)
    source = re.search(r'<source src="(/organisatie/introductievideo/[a-z2-7]{52})" '
                       r'type="video/webm">', shown.text)
    whole = staff.get(source.group(1))
    part = staff.get(source.group(1), headers={"Range": "bytes=65535-65537"})

    assert shown.status_code == 200 and "Introductievideo" in shown.text
    assert whole.status_code == 200 and whole.content == VIDEO
    assert part.status_code == 206 and part.content == VIDEO[65535:65538]
    system = app.state.system
    did = system.sessions.open(holder.cookies[cookies.SESSION][4:],
                               app.state.clock())[0]
    assert did.startswith("did:key:") and did not in shown.text
    assert system.pods.pod_id(did) not in shown.text and "/pods/" not in shown.text


def test_the_card_shows_no_video_without_a_grant_of_it(app):  # noqa: F811
    holder_with_video(app, ["skills"])
    staff = signed_in_organisation(app)

    shown = card(app, staff)

    assert shown.status_code == 200 and "<video" not in shown.text


def test_the_video_page_needs_an_organisations_session(app):  # noqa: F811
    holder, _ = holder_with_video(app, ["skills", "intro_video"])
    staff = signed_in_organisation(app)
    source = re.search(r'<source src="(/organisatie/introductievideo/[a-z2-7]{52})"',
                       card(app, staff).text).group(1)

    assert holder.get(source).status_code in (303, 401, 403)
    assert staff.get("/organisatie/introductievideo/" + "0" * 32).status_code == 404
    assert staff.get("/organisatie/introductievideo/xyz").status_code == 404
