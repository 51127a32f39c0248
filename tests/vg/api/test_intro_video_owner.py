"""An intro video reaches an organisation only as the video of the holder whose card
shows it, and only for a purpose an organisation's project leader may ask."""

from __future__ import annotations

import json

from tests.vg.api.test_intro_video import VIDEO, path_of, with_video
from tests.vg.api.world import LD_JSON, UTRECHT, World


def _share_of_colleague(world: World):
    """B grants its video for matching and knowledge sharing; A reads B's share
    address as a fellow group member."""
    a = world.holder(world.skills(3), name="Anna Aal")
    b = world.holder(world.skills(3), name="Bert Baars")
    with_video(world, b)
    world.grant(b, ("name", "intro_video"), purposes=("matching", "knowledge_sharing"))
    created = world.client.post("/api/v1/groepen", json={"slug": "omgevingswet",
                                "name": "Omgevingswet", "theme": ""}, headers=b.headers)
    assert created.status_code == 201, created.text
    joined = world.client.put("/api/v1/groepen/omgevingswet/lidmaatschap",
                              headers=a.headers)
    assert joined.status_code == 200, joined.text
    found = world.client.get("/api/v1/groepen/omgevingswet/suggesties",
                             headers=a.headers).json()
    [profile] = [p for p in found if p["subject"] == world.seen_by(b, UTRECHT)]
    return a, b, profile["workcontext"]["introVideo"]["contentUrl"]


def _card_video(world: World, staff: dict, person) -> str | None:
    """The intro video address on the person's candidate card, if it shows one."""
    assignment = world.assignment(staff, world.skills(2))
    page = world.client.get(f"/api/v1/opdrachten/{assignment}/kandidaten",
                            headers=staff).json()
    shown = world.name_for(staff, person)
    card = next(c for c in page["candidates"] if c["subject"] == shown)
    return card["workcontext"].get("introVideo", {}).get("contentUrl")


def test_a_holder_can_not_show_a_colleagues_video_as_their_own(world):
    a, _b, address = _share_of_colleague(world)
    document = world.client.get("/api/v1/pod/werkcontext", headers=a.headers).json()
    document["introVideo"] = {"type": "VideoObject", "contentUrl": address,
                              "encodingFormat": "video/mp4"}
    saved = world.client.put("/api/v1/pod/werkcontext", content=json.dumps(document),
                             headers={**a.headers, "Content-Type": LD_JSON})
    world.grant(a, ("skills", "intro_video"))
    staff = world.staff(UTRECHT)

    shown = None
    if saved.status_code == 200:
        shown = _card_video(world, staff, a)
    assert saved.status_code == 400 or shown != address
    if shown:
        assert world.client.get(path_of(shown), headers=staff).content != VIDEO


def test_a_project_leader_can_not_watch_a_video_granted_for_knowledge_sharing(world):
    b = world.holder(world.skills(3), name="Bert Baars")
    with_video(world, b)
    world.grant(b, ("intro_video",), purposes=("knowledge_sharing",))
    a = world.holder(world.skills(3), name="Anna Aal")
    world.client.post("/api/v1/groepen", json={"slug": "omgevingswet",
                      "name": "Omgevingswet", "theme": ""}, headers=b.headers)
    world.client.put("/api/v1/groepen/omgevingswet/lidmaatschap", headers=a.headers)
    [profile] = world.client.get("/api/v1/groepen/omgevingswet/suggesties",
                                 headers=a.headers).json()
    address = profile["workcontext"]["introVideo"]["contentUrl"]

    answer = world.client.get(path_of(address), params={"purpose": "knowledge_sharing"},
                              headers=world.staff(UTRECHT))

    assert answer.status_code == 404
