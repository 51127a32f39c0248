"""The holder's access view says when a colleague looked: a fellow holder who was
shown their data (an interest group's suggestions, a peer search) is named as a
colleague, on the API and on the web page, not as their organisation."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.vg.api.test_groups import _group, _join, _suggestions
from tests.vg.api.world import PASSPHRASE, UTRECHT, ZEIST


def _looked_at_by_a_colleague(world):
    skills = world.skills()
    sanne = world.holder(skills, employer=UTRECHT, name="Sanne de Boer")
    bram = world.holder(skills, employer=ZEIST, name="Bram Visser")
    world.grant(bram, ["name", "skills"], purposes=["knowledge_sharing"])
    slug = _group(world, sanne)
    _join(world, bram, slug)
    assert _suggestions(world, sanne, slug).status_code == 200
    return sanne, bram


def test_the_access_view_names_a_colleague_as_a_colleague(world):
    _, bram = _looked_at_by_a_colleague(world)
    staff = world.staff(ZEIST)
    job = world.assignment(staff, world.skills(1))
    world.grant(bram, ["skills"], audience={"kind": "organisation",
                                            "organisations": [ZEIST]})
    assert world.client.get(f"/api/v1/opdrachten/{job}/kandidaten",
                            headers=staff).status_code == 200

    answer = world.client.get("/api/v1/pod/inzage", headers=bram.headers)

    viewers = {(e["purpose"], e["viewer"]) for e in answer.json()["entries"]}
    assert ("knowledge_sharing", "colleague") in viewers
    assert ("matching", "organisation") in viewers


def test_the_access_page_names_a_colleague_as_a_colleague(world):
    _, bram = _looked_at_by_a_colleague(world)
    pages = {}
    for lang in ("nl", "en"):
        web = TestClient(world.client.app, base_url="https://testserver",
                         follow_redirects=False)
        token = re.search(r'name="csrf" value="([0-9a-f]{64})"',
                          web.get("/inloggen").text).group(1)
        signed = web.post("/inloggen", data={"csrf": token, "pod": bram.did,
                                             "wachtzin": PASSPHRASE})
        assert signed.status_code == 303, signed.text
        web.post("/taal", data={"csrf": token, "taal": lang, "terug": "/"})
        pages[lang] = web.get("/mijn/inzage").text

    assert "Een collega bij Gemeente Utrecht" in pages["nl"]
    assert "A colleague at Gemeente Utrecht" in pages["en"]
