"""The ranking puts the people a sensible project leader would pick first in the top
10, for each of the thirty labelled assignments, among a synthetic population."""

from __future__ import annotations

from bench.registry_labelled import evaluate, planted
from bench.registry_synth import generate
from tests.factories import NOW, reference

SEED = 7
BACKGROUND = 1500


def test_every_pick_of_the_labelled_set_is_in_the_top_ten(system):
    registry = system.registry
    documents = [d for chunk in generate(reference(), BACKGROUND, SEED) for d in chunk]
    documents += planted(reference(), SEED)
    result = registry.bulk.disclosures(documents, NOW)
    assert result.refused == []

    outcomes = evaluate(registry, system.pseudonym_secret, SEED, NOW)

    missed = [(o.assignment, o.picks - o.picks_in_top10) for o in outcomes
              if o.picks_in_top10 < o.picks]
    assert len(outcomes) == 30 and missed == []
