"""Each header of an answer is sent once: the headers every answer carries (the
security headers, ``Cache-Control`` among them) are added only where the route
did not set the same header itself, so an intro video is not ``no-store`` twice."""

from __future__ import annotations

import pytest

from tests.vg.api.test_intro_video import candidate_video, granted, path_of
from tests.vg.api.world import UTRECHT


def _named_twice(answer) -> list[str]:
    names = [name.lower() for name, _ in answer.headers.multi_items()]
    return sorted({name for name in names if names.count(name) > 1})


@pytest.mark.parametrize("range_", [None, "bytes=0-9", "bytes=-3"])
def test_an_intro_video_carries_each_header_once(world, range_):
    person, _, _ = granted(world)
    staff = world.staff(UTRECHT)
    path = path_of(candidate_video(world, staff, person))
    headers = {**staff, **({"Range": range_} if range_ else {})}

    answer = world.client.get(path, headers=headers)
    head = world.client.head(path, headers=headers)

    assert answer.status_code in (200, 206), answer.text
    assert _named_twice(answer) == [] and _named_twice(head) == []
    assert answer.headers["cache-control"] == "no-store"


def test_json_answers_and_refusals_carry_each_header_once(world):
    person = world.holder(world.skills(3))

    answers = [world.client.get("/api/v1/pod/werkcontext", headers=person.headers),
               world.client.get("/api/v1/pod/toestemmingen", headers=person.headers),
               world.client.get("/api/v1/pod/werkcontext"),
               world.client.get("/api/v1/nosuch", headers=person.headers),
               world.client.get("/api/v1/openapi.json")]

    assert [_named_twice(a) for a in answers] == [[]] * len(answers)
