"""The ranking in memory orders every candidate exactly as the Python scorer
would: the same scores, the same order, the same exclusions, on a synthetic
population with several grants per holder, for varied assignments and
requesters."""

from __future__ import annotations

import random

import pytest

from bench.registry_bench import assignments
from bench.registry_synth import generate
from registry import MATCHING, AssignmentSpec, Requester
from registry.matching import Matcher
from tests.factories import (
    NOW,
    UTRECHT,
    disclosure,
    full_workcontext,
    holder_key,
    reference,
    related_skills,
    signed_grant,
    skill_pool,
    trace_id,
)

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
    return [(s.pseudonym, s.score) for s in matcher.rank(
        signals, passed, tie=lambda p: registry.org_pseudonyms.tie_key(
            requester.organisation, p))]


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


def test_a_cursor_anywhere_in_the_ranking_even_among_ties_gives_what_follows(
        populated):
    registry = populated.registry
    requester, job = next(j for j in jobs(registry, 25)
                          if len(python_ranking(registry, *j)) > 40)
    expected = python_ranking(registry, requester, job)
    scores = [score for _, score in expected]
    tied = [n for n in range(1, len(expected)) if scores[n] == scores[n - 1]]
    assert tied  # the population has ties for the cursor to fall among
    for n in sorted({0, *tied[:15], len(expected) - 2, len(expected) - 1}):
        pseudonym, score = expected[n]

        page, total = registry.ranked(requester, job, NOW, 4, (score, pseudonym))

        assert [(s.pseudonym, s.score) for s in page] == expected[n + 1:n + 5]
        assert total == len(expected)


def test_a_page_that_ends_inside_a_tie_is_cut_by_pseudonym(populated):
    registry = populated.registry
    for requester, job in jobs(registry, 25):
        expected = python_ranking(registry, requester, job)
        cuts = [n for n in range(1, len(expected))
                if expected[n][1] == expected[n - 1][1]]
        for limit in cuts[:5]:
            page, _ = registry.ranked(requester, job, NOW, limit, None)
            assert [(s.pseudonym, s.score) for s in page] == expected[:limit]


def test_candidates_passed_on_stay_out_of_every_page_after_a_cursor(populated):
    registry = populated.registry
    requester, job = next(j for j in jobs(registry, 25)
                          if len(python_ranking(registry, *j)) > 30)
    before = python_ranking(registry, requester, job)
    for pseudonym, _ in before[3:30:4]:
        registry.pass_candidate(requester, job.id, pseudonym, NOW)
    expected = python_ranking(registry, requester, job)
    assert len(expected) == len(before) - 7

    page, total = registry.ranked(requester, job, NOW, 10,
                                  (before[2][1], before[2][0]))

    assert [(s.pseudonym, s.score) for s in page] == expected[3:13]
    assert total == len(expected)


def test_the_page_read_gives_the_signals_the_index_rows_give(populated):
    """The page's signals come from the disclosure rows whose profiles are shown;
    they equal the merge of the match index rows for the same holders."""
    registry = populated.registry
    for requester, job in jobs(registry, 10):
        wanted = Matcher(job, registry.relations, registry.circles
                         ).skills_to_look_for()
        names = [p for p, _ in python_ranking(registry, requester, job)[:30]]

        signals, profiles = registry.gate.page(requester, MATCHING, NOW, wanted,
                                               names)

        by_index = registry.gate.signals(requester, MATCHING, NOW, wanted,
                                         pseudonyms=names)
        assert {s.pseudonym: s for s in signals} == {s.pseudonym: s
                                                     for s in by_index}
        assert {p.pseudonym for p in profiles} == set(names)


def test_a_candidate_whose_skills_round_to_nothing_counts_when_other_fields_score(
        system):
    """A sibling of a light nice-to-have among heavier ones is worth less than
    half a point; such a candidate still ranks (and counts in the total) on the
    level, and one who shared nothing else does not."""
    registry = system.registry
    child, _, sibling = related_skills()
    unrelated = [s for s in skill_pool()
                 if s not in registry.relations.related(child)]
    required, *heavy = unrelated[:3]
    published = [(1, (sibling,), ["skills", "level"]),  # 15 points on the level
                 (2, (sibling,), ["skills"])]  # nothing
    published += [(n, (required,), ["skills", "level"]) for n in range(3, 15)]
    for n, skills, fields in published:
        key = holder_key(n)
        workcontext = full_workcontext(key.did, skills=skills, level_rank=3)
        registry.receive_disclosure(disclosure(
            key, signed_grant(key, fields, to={"kind": "all_municipalities"}), 1,
            workcontext), NOW)
    requester = Requester(UTRECHT, "staff-1", "staff")
    job = registry.create_assignment(requester, AssignmentSpec(
        title="Opdracht", description="", required_skills=(required,),
        optional_skills=(child, *heavy), optional_weights=dict.fromkeys(heavy, 3),
        level_min=2, level_max=4, circle="national"), NOW)
    expected = python_ranking(registry, requester, job)
    assert len(expected) == 13 and expected[-1][1] == 15

    for limit in (1, 3, 12):
        page, total = registry.ranked(requester, job, NOW, limit, None)

        assert [(s.pseudonym, s.score) for s in page] == expected[:limit]
        assert total == 13
    page, _ = registry.ranked(requester, job, NOW, 3, expected[10][::-1])
    assert [(s.pseudonym, s.score) for s in page] == expected[11:]
