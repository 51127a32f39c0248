"""Which purposes a member of staff may watch an intro video for: ``matching`` for a
candidate the organisation may see, ``teamwork`` for a member of one of its active
teams; ``knowledge_sharing`` is the holder's consent to colleagues, not to staff."""

from __future__ import annotations

from tests.vg.api.test_intro_video import VIDEO, path_of, shared, with_video
from tests.vg.api.world import UTRECHT

API = "/api/v1"


def _team_video(world):
    """A holder in a team of Utrecht's, with the video granted for teamwork; the
    team's name, the staff's headers and the address on the team page."""
    skills = world.skills()
    person = world.holder(skills)
    with_video(world, person)
    world.grant(person, ["skills"])
    world.grant(person, ["name", "intro_video"], purposes=["teamwork"])
    staff = world.staff(UTRECHT)
    assignment = world.assignment(staff, skills)
    world.match(staff, assignment, person)
    formed = world.client.post(f"{API}/teams", headers=staff, json={
        "assignment": assignment, "members": [world.name_for(staff, person)]})
    assert formed.status_code == 201, formed.text
    name = formed.json()["name"]
    page = world.client.get(f"{API}/teams/{name}", headers=staff).json()
    member = next(m for m in page["members"] if "workcontext" in m)
    return name, staff, path_of(member["workcontext"]["introVideo"]["contentUrl"])


def test_staff_may_not_watch_a_video_granted_for_knowledge_sharing_alone(world):
    person = world.holder(world.skills(3))
    with_video(world, person)
    world.grant(person, ["intro_video"], purposes=["knowledge_sharing"])
    (share,) = shared(world)
    staff = world.staff(UTRECHT)
    before = len(world.audit(subject=person.subject))

    address = world.system.registry.videos.address(UTRECHT, share.share_id)
    answer = world.client.get(f"{API}/introductievideos/{address}",
                              params={"purpose": "knowledge_sharing"}, headers=staff)

    assert answer.status_code == 404, answer.text
    assert answer.json()["code"] == "video-not-found"
    assert VIDEO[:1024] not in answer.content
    assert len(world.audit(subject=person.subject)) == before


def test_staff_watch_a_member_of_their_active_team_for_teamwork(world):
    _, staff, path = _team_video(world)

    answer = world.client.get(path, params={"purpose": "teamwork"}, headers=staff)

    assert answer.status_code == 200, answer.text
    assert answer.content == VIDEO


def test_a_dissolved_team_shows_its_former_members_video_no_more(world):
    name, staff, path = _team_video(world)
    dissolved = world.client.post(f"{API}/teams/{name}/ontbinding", headers=staff)
    assert dissolved.status_code == 200, dissolved.text

    answer = world.client.get(path, params={"purpose": "teamwork"}, headers=staff)

    assert answer.status_code == 404 and answer.json()["code"] == "video-not-found"


def test_another_organisation_in_the_audience_has_no_team_with_the_holder(world):
    _, _, path = _team_video(world)

    answer = world.client.get(path, params={"purpose": "teamwork"},
                              headers=world.staff("GM0307"))

    assert answer.status_code == 404 and answer.json()["code"] == "video-not-found"
