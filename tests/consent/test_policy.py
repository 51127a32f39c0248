"""An employer's policy allows audience kinds, optionally only within its province,
and says in words why it refuses; employer audiences need the holder's employer."""

from __future__ import annotations

import pytest

from consent import (
    KINDS,
    Audience,
    AudienceNeedsEmployer,
    AudienceRefusedByEmployer,
    EmployerPolicy,
    InvalidAudience,
    InvalidPolicy,
    check_audience_for_holder,
)
from tests.factories import (
    AMSTERDAM,
    MINISTRY_BZK,
    PROVINCE_NOORD_HOLLAND,
    PROVINCE_UTRECHT,
    UTRECHT,
    ZEIST,
    reference,
)

REF = reference()
NO_POOL = EmployerPolicy(UTRECHT, frozenset(KINDS) - {"cross_sector"})
IN_PROVINCE = EmployerPolicy(UTRECHT, frozenset(KINDS), within_province=True)


def test_a_policy_without_the_pool_refuses_the_pool_and_says_which_kinds_it_allows():
    reason = NO_POOL.refusal(Audience("cross_sector"), REF)

    assert "cross_sector" in reason and "allowed kinds" in reason
    assert "province" in reason
    with pytest.raises(AudienceRefusedByEmployer) as caught:
        NO_POOL.check(Audience("cross_sector"), REF)
    assert (caught.value.kind, caught.value.employer) == ("cross_sector", UTRECHT)
    assert caught.value.status == 403 and caught.value.reason == reason


def test_a_policy_allows_every_kind_it_names():
    assert NO_POOL.refusal(Audience("province", province=PROVINCE_NOORD_HOLLAND),
                           REF) is None
    assert NO_POOL.refusal(Audience("sector", sector="ministry"), REF) is None


def test_within_the_province_refuses_audiences_that_can_reach_outside_it():
    assert IN_PROVINCE.refusal(Audience("province", province=PROVINCE_UTRECHT),
                               REF) is None
    assert IN_PROVINCE.refusal(
        Audience("organisations", organisations=(ZEIST,)), REF) is None
    reason = IN_PROVINCE.refusal(
        Audience("organisations", organisations=(ZEIST, AMSTERDAM)), REF)
    assert PROVINCE_UTRECHT in reason
    assert IN_PROVINCE.refusal(Audience("all_municipalities"), REF) is not None


def test_a_policy_round_trips_and_refuses_bad_input():
    data = NO_POOL.to_json()
    assert EmployerPolicy.from_json(UTRECHT, {
        k: v for k, v in data.items() if k != "organisation"}, REF) == NO_POOL

    for bad in (None, {"allowedKinds": ["everyone"]}, {"allowedKinds": "province"},
                {"allowedKinds": [], "withinProvince": "yes"},
                {"allowedKinds": [], "extra": 1}):
        with pytest.raises(InvalidPolicy):
            EmployerPolicy.from_json(UTRECHT, bad, REF)


def test_within_the_province_needs_an_employer_with_a_province():
    with pytest.raises(InvalidPolicy) as caught:
        EmployerPolicy.from_json(MINISTRY_BZK, {"allowedKinds": [],
                                                "withinProvince": True}, REF)

    assert MINISTRY_BZK in caught.value.detail


def test_a_freelancer_can_use_every_audience_that_needs_no_employer():
    for kind in KINDS:
        chosen = Audience("employer", employer=UTRECHT) if kind == "employer" else (
            Audience(kind, employer=UTRECHT) if kind == "employer_and_neighbours"
            else Audience(kind))
        if chosen.needs_employer:
            with pytest.raises(AudienceNeedsEmployer):
                check_audience_for_holder(chosen, None)
        else:
            check_audience_for_holder(chosen, None)


def test_an_employer_audience_must_name_the_holders_own_employer():
    check_audience_for_holder(Audience("employer", employer=UTRECHT), UTRECHT)

    with pytest.raises(InvalidAudience):
        check_audience_for_holder(Audience("employer", employer=ZEIST), UTRECHT)
