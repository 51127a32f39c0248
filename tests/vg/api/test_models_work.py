"""The published OpenAPI says what the server requires of a working-life body, so a
client built from it does not send what is then refused."""

from __future__ import annotations

import re


from registry.peers import SLUG
from registry.ratings import ASPECTS
from registry.teams import NAME


def schemas(world) -> dict:
    return world.client.get("/api/v1/openapi.json").json()["components"]["schemas"]


def pattern_of(schema: dict) -> str:
    for option in schema.get("anyOf", [schema]):
        if "pattern" in option:
            return option["pattern"]
    raise AssertionError(f"no pattern in {schema}")


def test_a_rating_is_published_as_needing_every_aspect(world):
    aspects = schemas(world)["RatingCreate"]["properties"]["aspects"]

    assert aspects["minProperties"] == aspects["maxProperties"] == len(ASPECTS)
    assert set(aspects["propertyNames"]["enum"]) == set(ASPECTS)


def test_team_names_and_group_slugs_are_published_with_the_servers_pattern(world):
    found = schemas(world)
    team = pattern_of(found["TeamCreate"]["properties"]["name"])
    slug = pattern_of(found["GroupCreate"]["properties"]["slug"])

    for published, server in ((team, NAME), (slug, SLUG)):
        for text in ("wijkteam", "wijk-team-2", "Wijkteam", "wijk--team", "-wijk",
                     "wijk team", "wijk_team"):
            assert bool(re.search(published, text)) == bool(server.match(text)), text


def test_a_rating_with_one_aspect_is_refused_as_the_schema_says(world):
    answer = world.client.post("/api/v1/pod/teams/wijkteam/beoordelingen", json={
        "subject": "1" * 32, "aspects": {"expertise": 5}},
        headers=world.holder(world.skills()).headers)

    assert answer.status_code == 400
    assert "aspects" in answer.text


