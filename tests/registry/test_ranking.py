"""The ranking in memory orders every candidate exactly as the Python scorer
would: the same scores, the same order, the same exclusions, on a synthetic
population with several grants per holder, for varied assignments and
requesters."""

from __future__ import annotations

import random

import pytest

from bench.registry_bench import assignments
from bench.registry_synth import generate
from registry import MATCHING, Requester
from registry.matching import Matcher
from tests.factories import NOW, reference, trace_id

SEED = 11
HOLDERS = 400


@pytest.fixture
def populated(system):
    documents = [d for chunk in generate(reference(), HOLDERS, SEED) for d in chunk]
    result = system.registry.bulk.disclosures(documents, NOW)
    assert result.refused == []
    return system


def python_ranking(registry, requester, job):
    """The reference: every visible candidate's index columns, scored in Python."""
    matcher = Matcher(job, registry.relations, registry.circles)
    signals = registry.gate.signals(requester, MATCHING, NOW,
                                    matcher.skills_to_look_for())
    passed = registry.assignments.passed(job.id)
    return [(s.pseudonym, s.score) for s in matcher.rank(signals, passed)]


def jobs(registry, count):
    rng = random.Random(SEED)
    for n, (org, spec) in enumerate(assignments(reference(), count, rng)):
        requester = Requester(org, f"staff-{n}", "staff")
        yield requester, registry.create_assignment(requester, spec, NOW)


def test_the_ranking_equals_the_python_scorer_for_varied_assignments(populated):
    registry = populated.registry
    compared = 0
    for requester, job in jobs(registry, 25):
        expected = python_ranking(registry, requester, job)

        ranked = registry.rank(requester, job, NOW)

        assert [(s.pseudonym, s.score) for s in ranked] == expected
        compared += len(expected)
    assert compared > 200  # the population really overlaps the assignments


def test_reasons_of_a_page_add_up_to_its_score(populated):
    registry = populated.registry
    for requester, job in jobs(registry, 5):
        for scored in registry.rank(requester, job, NOW, limit=10):
            assert sum(r["points"] for r in scored.reasons) == scored.score


def test_pages_through_the_cursor_join_up_to_the_whole_ranking(populated):
    registry = populated.registry
    requester, job = next(j for j in jobs(registry, 25)
                          if len(python_ranking(registry, *j)) > 25)
    expected = python_ranking(registry, requester, job)
    seen, cursor = [], None
    for n in range(1, 100):
        page = registry.candidates(requester, job.id, NOW, trace_id(n), limit=7,
                                   cursor=cursor)
        assert page.total == len(expected)
        seen += [(r.profile.pseudonym, r.score) for r in page.candidates]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected


def test_a_passed_candidate_is_left_out_of_the_ranking(populated):
    registry = populated.registry
    requester, job = next(iter(jobs(registry, 1)))
    first = registry.rank(requester, job, NOW, limit=1)[0]

    registry.pass_candidate(requester, job.id, first.pseudonym, NOW)

    ranked = registry.rank(requester, job, NOW)
    assert first.pseudonym not in {s.pseudonym for s in ranked}
    assert [(s.pseudonym, s.score) for s in ranked] == python_ranking(
        registry, requester, job)


def test_the_first_page_and_its_total_are_those_of_the_whole_ranking(populated):
    registry = populated.registry
    for requester, job in jobs(registry, 25):
        expected = python_ranking(registry, requester, job)

        page, total = registry.ranked(requester, job, NOW, 11, None)

        assert [(s.pseudonym, s.score) for s in page] == expected[:11]
        assert total == len(expected)
