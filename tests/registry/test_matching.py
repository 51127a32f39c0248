"""Ranking: exact skills beat related ones, each factor shows as a reason on a
consented field, paging with a cursor is stable, and passed candidates stay out."""

from __future__ import annotations

from datetime import date

import pytest

from registry import InvalidCursor, pseudonym_for
from tests.factories import (
    AMSTERDAM,
    NOW,
    UTRECHT,
    ZEIST,
    assignment,
    disclosure,
    full_workcontext,
    holder_key,
    related_skills,
    signed_grant,
    staff_requester,
    trace_id,
)

ALL = ["skills", "level", "hours_per_week", "available_period", "employer"]
NATIONAL = {"kind": "all_municipalities"}


def publish(system, n, *, skills, fields=ALL, employer=UTRECHT, **changes):
    key = holder_key(n)
    document = full_workcontext(key.did, skills=tuple(skills), employer=employer,
                                **changes)
    grant = signed_grant(key, fields, to=NATIONAL)
    system.registry.receive_disclosure(disclosure(key, grant, 1, document), NOW)
    return pseudonym_for(system.pseudonym_secret, key.did)


def ranked(system, requester, job, n=1, **options):
    page = system.registry.candidates(requester, job.id, NOW, trace_id(n), **options)
    return page, [r.profile.pseudonym for r in page.candidates]


def test_an_exact_skill_outranks_a_broader_one_which_outranks_a_sibling(system):
    child, broader, sibling = related_skills()
    exact = publish(system, 1, skills=[child])
    up = publish(system, 2, skills=[broader])
    beside = publish(system, 3, skills=[sibling])
    requester = staff_requester(system)
    job = assignment(system, requester, required_skills=(child,), optional_skills=())

    page, order = ranked(system, requester, job)

    assert order == [exact, up, beside]
    relations = [r.reasons[0]["matched"][0]["relation"] for r in page.candidates]
    assert relations == ["exact", "broader", "sibling"]


def test_every_factor_gives_a_reason_on_the_field_it_rests_on(system):
    child, _, _ = related_skills()
    publish(system, 1, skills=[child], employer=ZEIST)
    requester = staff_requester(system)
    job = assignment(system, requester, required_skills=(child,), optional_skills=(),
                     period_start=date(2027, 1, 1), period_end=date(2027, 12, 31))

    page, _ = ranked(system, requester, job)

    reasons = {r["code"]: r for r in page.candidates[0].reasons}
    assert {c: r["field"] for c, r in reasons.items()} == {
        "required-skills": "skills", "level-fit": "level",
        "hours-fit": "hours_per_week", "period-overlap": "available_period",
        "distance": "employer"}
    assert reasons["distance"]["band"] == "neighbour"
    assert reasons["period-overlap"]["days"] == 181  # first half of 2027
    assert page.candidates[0].score == sum(r["points"] for r in reasons.values())


def test_a_candidate_without_a_field_ranks_on_the_rest_without_its_reason(system):
    child, _, _ = related_skills()
    publish(system, 1, skills=[child], fields=["skills", "level"])
    requester = staff_requester(system)
    job = assignment(system, requester, required_skills=(child,), optional_skills=())

    page, _ = ranked(system, requester, job)

    assert [r["code"] for r in page.candidates[0].reasons] == [
        "required-skills", "level-fit"]


def test_a_far_candidate_ranks_below_a_neighbour_with_the_same_profile(system):
    child, _, _ = related_skills()
    far = publish(system, 1, skills=[child], employer=AMSTERDAM)
    near = publish(system, 2, skills=[child], employer=ZEIST)
    requester = staff_requester(system)
    job = assignment(system, requester, required_skills=(child,), optional_skills=())

    assert ranked(system, requester, job)[1] == [near, far]


def test_pages_follow_each_other_without_gaps_or_repeats(system):
    child, _, _ = related_skills()
    everyone = {publish(system, n, skills=[child], hours_per_week=n + 1)
                for n in range(7)}
    requester = staff_requester(system)
    job = assignment(system, requester, required_skills=(child,), optional_skills=())
    full, order = ranked(system, requester, job, limit=100)

    seen, cursor, n = [], None, 2
    while True:
        page, names = ranked(system, requester, job, n, limit=3, cursor=cursor)
        seen += names
        cursor, n = page.next_cursor, n + 1
        if cursor is None:
            break

    assert seen == order and set(seen) == everyone and full.next_cursor is None


def test_a_malformed_cursor_is_refused(system):
    requester = staff_requester(system)
    job = assignment(system, requester)

    with pytest.raises(InvalidCursor):
        ranked(system, requester, job, cursor="bm90LWEtY3Vyc29y")


def test_a_passed_candidate_no_longer_appears_for_that_assignment(system):
    child, _, _ = related_skills()
    passed = publish(system, 1, skills=[child])
    kept = publish(system, 2, skills=[child])
    requester = staff_requester(system)
    job = assignment(system, requester, required_skills=(child,), optional_skills=())
    other = assignment(system, requester, required_skills=(child,), optional_skills=())

    system.registry.pass_candidate(requester, job.id, passed, NOW)

    assert ranked(system, requester, job)[1] == [kept]
    assert passed in ranked(system, requester, other, 2)[1]


def test_a_circle_of_the_own_region_leaves_out_far_employers(system):
    child, _, _ = related_skills()
    publish(system, 1, skills=[child], employer=AMSTERDAM)
    near = publish(system, 2, skills=[child], employer=ZEIST)
    requester = staff_requester(system)
    job = assignment(system, requester, required_skills=(child,), optional_skills=(),
                     circle="corop")

    assert ranked(system, requester, job)[1] == [near]


def _ties(system, count: int, first: int = 100) -> tuple[str, set[str]]:
    """``count`` holders whose consented fields are the same: one score for all."""
    child, _, _ = related_skills()
    return child, {publish(system, n, skills=[child])
                   for n in range(first, first + count)}


def _whole(system, requester, job, limit: int) -> list[tuple[str, int]]:
    """The ranking read page by page through the cursor."""
    seen, cursor, n = [], None, 1
    while True:
        page, _ = ranked(system, requester, job, n, limit=limit, cursor=cursor)
        seen += [(r.profile.pseudonym, r.score) for r in page.candidates]
        cursor, n = page.next_cursor, n + 1
        if cursor is None:
            return seen


def test_two_organisations_get_equal_scores_in_orders_of_their_own(system):
    child, everyone = _ties(system, 24)
    lists = {}
    for organisation in (UTRECHT, ZEIST):
        requester = staff_requester(system, organisation)
        job = assignment(system, requester, required_skills=(child,),
                         optional_skills=(), location=UTRECHT)
        _, lists[organisation] = ranked(system, requester, job, limit=100)

    names = system.registry.org_pseudonyms
    assert set(lists[UTRECHT]) == set(lists[ZEIST]) == everyone
    assert lists[UTRECHT] != lists[ZEIST]
    assert lists[UTRECHT] != sorted(everyone)  # not the registry's own order
    for organisation, order in lists.items():
        assert order == sorted(everyone, key=lambda p: names.tie_key(organisation, p))


@pytest.mark.parametrize("limit", [1, 4, 7])
def test_pages_through_many_ties_join_up_without_gaps_or_repeats(system, limit):
    child, everyone = _ties(system, 30)
    publish(system, 7, skills=[child], hours_per_week=8)  # a lower score after them
    requester = staff_requester(system, ZEIST)
    job = assignment(system, requester, required_skills=(child,), optional_skills=())
    full, _ = ranked(system, requester, job, limit=100)

    seen = _whole(system, requester, job, limit)

    assert seen == [(r.profile.pseudonym, r.score) for r in full.candidates]
    assert len({p for p, _ in seen}) == len(seen) == len(everyone) + 1
