"""Synthetic assignments in real municipalities, asking for real ESCO skills."""

from __future__ import annotations

import random
from dataclasses import replace

from registry import AssignmentSpec

TITLES = {
    "beleid": "Beleidsadviseur {topic}",
    "realisatie": "Projectleider {topic}",
    "beheer": "Informatiebeheerder {topic}",
    "dienstverlening": "Klantadviseur {topic}",
    "management": "Programmamanager {topic}",
    "ondersteuning": "Ondersteuner programmabureau {topic}",
    "politiek": "Bestuursadviseur {topic}",
}
TOPICS = ("Omgevingswet", "energietransitie", "woningbouw", "jeugdzorg", "participatie",
          "digitalisering", "klimaatadaptatie", "dienstverlening")
CIRCLES = ("neighbours", "neighbours", "province", "province", "national", "own")


def plan_assignments(count: int, seed: int, municipalities: list[str],
                     pools: dict[str, list[str]], first: str | None = None
                     ) -> list[tuple[str, AssignmentSpec]]:
    """``first``: a municipality that gets the first assignment, searching the whole
    country, so that its project leaders and DPO (the ones the README and the demo's
    last line name) find candidates and log entries to look at."""
    rng = random.Random(seed + 1)
    others = [code for code in municipalities if code != first]
    places = rng.sample(others, k=count - 1 if first in municipalities else count)
    planned = [(place, _spec(rng, pools)) for place in places]
    if first in municipalities:
        planned.insert(0, (first, replace(_spec(rng, pools), circle="national")))
    return planned


def _spec(rng: random.Random, pools: dict[str, list[str]]) -> AssignmentSpec:
    family = rng.choice(sorted(pools))
    other = rng.choice(sorted(set(pools) - {family}))
    low = rng.randint(1, 4)
    title = TITLES[family].format(topic=rng.choice(TOPICS))
    required = rng.sample(pools[family], k=3)
    optional = rng.sample(pools[other], k=2)
    while set(optional) & set(required):  # two families' pools may share a skill
        optional = rng.sample(pools[other], k=2)
    return AssignmentSpec(
        title=title,
        description="Tijdelijke inzet voor een opgave die over de lijnen heen gaat.",
        required_skills=tuple(required),
        optional_skills=tuple(optional),
        level_min=low, level_max=min(5, low + 1),
        hours_per_week=rng.randrange(8, 33, 4),
        circle=rng.choice(CIRCLES),
    )
