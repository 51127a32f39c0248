"""Assignments carry their requirements and move through draft, open, paused,
filled and closed; a wrong move or a bad requirement changes nothing."""

from __future__ import annotations

from datetime import date

import pytest

from registry import InvalidAssignment, InvalidTransition
from tests.factories import NOW, UTRECHT, assignment, skill_pool, staff_requester


def test_a_new_assignment_keeps_every_requirement(system):
    requester = staff_requester(system)
    job = assignment(system, requester, optional_weights={}, function_family="beleid",
                     field_of_work="beleid", period_start=date(2027, 1, 1),
                     period_end=date(2027, 6, 30), remote=True, circle="sector",
                     circle_ref="water_board", freelancers=False)

    stored = system.registry.assignments.get(UTRECHT, job.id).to_json()

    assert stored["periodStart"] == "2027-01-01" and stored["remote"] is True
    assert stored["circleSector"] == "water_board" and stored["location"] == UTRECHT
    assert stored["functionFamily"] == "beleid" and stored["freelancers"] is False


def test_an_assignment_goes_from_draft_to_closed(system):
    requester = staff_requester(system)
    job = assignment(system, requester)
    draft = system.registry.create_assignment(requester, job.spec, NOW, "draft")
    steps = ["open", "pause", "open", "fill", "close"]

    statuses = [system.registry.change_assignment(requester, draft.id, s, NOW).status
                for s in steps]

    assert statuses == ["open", "paused", "open", "filled", "closed"]


@pytest.mark.parametrize("steps", [["fill", "pause"], ["close", "open"],
                                   ["pause", "pause"]])
def test_a_move_the_lifecycle_does_not_allow_is_refused(system, steps):
    requester = staff_requester(system)
    job = assignment(system, requester)
    for step in steps[:-1]:
        system.registry.change_assignment(requester, job.id, step, NOW)
    before = system.registry.assignments.get(UTRECHT, job.id).status

    with pytest.raises(InvalidTransition):
        system.registry.change_assignment(requester, job.id, steps[-1], NOW)

    assert system.registry.assignments.get(UTRECHT, job.id).status == before


def test_a_closed_assignment_has_no_candidates(system):
    requester = staff_requester(system)
    job = assignment(system, requester)
    system.registry.change_assignment(requester, job.id, "close", NOW)

    with pytest.raises(InvalidTransition):
        system.registry.candidates(requester, job.id, NOW, "0" * 32)


def test_bad_requirements_are_all_reported_at_once(system):
    requester = staff_requester(system)

    with pytest.raises(InvalidAssignment) as caught:
        assignment(system, requester, period_start=date(2027, 2, 1),
                   period_end=date(2027, 1, 1), location="GM9999", circle="sector")

    assert len(caught.value.problems) == 3


@pytest.mark.parametrize("start, end", [
    (date(1, 1, 1), date(2027, 1, 1)),
    (date(1999, 12, 31), date(2027, 1, 1)),
    (date(2027, 1, 1), date(2100, 1, 1)),
    (date(2027, 1, 1), date(9999, 12, 31)),
])
def test_a_period_outside_2000_to_2099_is_refused(system, start, end):
    requester = staff_requester(system)

    with pytest.raises(InvalidAssignment) as caught:
        assignment(system, requester, period_start=start, period_end=end)

    assert any("2000-01-01" in problem for problem in caught.value.problems)
    assert system.registry.assignments.list(UTRECHT) == []


@pytest.mark.parametrize("required, optional", [
    ([0, 0], [2]),
    ([0, 1], [2, 2]),
    ([0, 1], [1, 2]),
])
def test_a_skill_named_twice_is_refused_since_it_would_score_twice(
        system, required, optional):
    pool = skill_pool()
    requester = staff_requester(system)

    with pytest.raises(InvalidAssignment) as caught:
        assignment(system, requester, required_skills=tuple(pool[i] for i in required),
                   optional_skills=tuple(pool[i] for i in optional))

    assert any("more than once" in problem for problem in caught.value.problems)
    assert system.registry.assignments.list(UTRECHT) == []
