"""Employer policies in the registry: a refused disclosure changes nothing, a
stricter policy suspends what it refuses and leaves a notice, a looser one lifts
the suspension; the employer a disclosure names must be the one an employer
audience names. Utrecht attests the holder throughout."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consent import (
    KINDS,
    Audience,
    AudienceRefusedByEmployer,
    EmployerPolicy,
    InvalidAudience,
    format_time,
    sign_document,
)
from registry import UnknownEmployer
from tests.factories import (
    AMSTERDAM,
    NOW,
    UTRECHT,
    disclosure,
    disclosure_rows,
    full_workcontext,
    holder_key,
    registry_snapshot,
    signed_grant,
    skill_pool,
)

KEY = holder_key(21)
POOL = Audience("cross_sector")
NO_POOL = EmployerPolicy(UTRECHT, frozenset(KINDS) - {"cross_sector"})
EVERYTHING = EmployerPolicy(UTRECHT, frozenset(KINDS))


@pytest.fixture(autouse=True)
def employed(system):
    """Utrecht attests KEY: its policy governs only its attested employees
    (tests/registry/test_policy_scope.py)."""
    system.registry.employment.attest(UTRECHT, KEY.did, NOW)

def test_a_disclosure_the_policy_refuses_changes_nothing(system):
    system.registry.policies.set_policy(NO_POOL, NOW)
    before = registry_snapshot(system.registry.engine)

    with pytest.raises(AudienceRefusedByEmployer) as caught:
        system.registry.receive_disclosure(
            disclosure(KEY, signed_grant(KEY, ["skills"], to=POOL), 1), NOW)

    assert "cross_sector" in caught.value.reason
    assert registry_snapshot(system.registry.engine) == before


def test_a_stricter_policy_suspends_what_it_refuses_and_a_looser_one_lifts_it(
        system):
    pooled = signed_grant(KEY, ["skills"], to=POOL)
    kept = signed_grant(KEY, ["level"], to=Audience("employer", employer=UTRECHT))
    system.registry.receive_disclosure(disclosure(KEY, pooled, 1), NOW)
    system.registry.receive_disclosure(disclosure(KEY, kept, 2), NOW)

    system.registry.policies.set_policy(NO_POOL, NOW)

    rows = {r.grant_id: r.suspended_by for r in disclosure_rows(system.registry.engine)}
    assert rows == {pooled.id: UTRECHT, kept.id: None}
    notices = system.registry.policies.notices(KEY.did)
    assert [(n.grant_id, n.organisation) for n in notices] == [(pooled.id, UTRECHT)]
    assert system.registry.policies.suspended(KEY.did) == {pooled.id}
    assert system.registry.policies.notices(holder_key(22).did) == []

    system.registry.policies.set_policy(NO_POOL, NOW)  # no second notice
    assert len(system.registry.policies.notices(KEY.did)) == 1
    system.registry.policies.set_policy(EVERYTHING, NOW)
    assert [r.suspended_by for r in disclosure_rows(system.registry.engine,
                                                    pooled.id)] == [None]
    assert system.registry.policies.suspended(KEY.did) == frozenset()


def test_publishing_again_under_a_suspended_grant_is_refused_and_stays_suspended(
        system):
    pooled = signed_grant(KEY, ["skills"], to=POOL)
    system.registry.receive_disclosure(disclosure(KEY, pooled, 1), NOW)
    system.registry.policies.set_policy(NO_POOL, NOW)
    newer = full_workcontext(KEY.did, skills=skill_pool()[3:5])

    with pytest.raises(AudienceRefusedByEmployer):
        system.registry.receive_disclosure(disclosure(KEY, pooled, 2, newer), NOW)

    [row] = disclosure_rows(system.registry.engine)
    assert (row.sequence, row.suspended_by) == (2, UTRECHT)
    assert len(system.registry.policies.notices(KEY.did)) == 1
    assert system.registry.policies.suspended(KEY.did) == {pooled.id}
    system.registry.policies.set_policy(EVERYTHING, NOW)
    [row] = disclosure_rows(system.registry.engine)
    assert (row.sequence, row.suspended_by) == (2, None)


def test_a_suspended_grant_that_no_longer_fits_a_new_employer_is_retracted(system):
    to_utrecht = signed_grant(KEY, ["skills"], to=Audience("employer",
                                                           employer=UTRECHT))
    system.registry.receive_disclosure(disclosure(KEY, to_utrecht, 1), NOW)
    system.registry.policies.set_policy(
        EmployerPolicy(UTRECHT, frozenset(KINDS) - {"employer"}), NOW)
    moved = full_workcontext(KEY.did, employer=AMSTERDAM)

    with pytest.raises(InvalidAudience):
        system.registry.receive_disclosure(disclosure(KEY, to_utrecht, 2, moved), NOW)

    assert disclosure_rows(system.registry.engine) == []
    assert len(system.registry.policies.notices(KEY.did)) == 2


def test_a_policy_binds_only_its_own_employees(system):
    system.registry.policies.set_policy(NO_POOL, NOW)
    elsewhere = full_workcontext(KEY.did, employer=AMSTERDAM)

    system.registry.receive_disclosure(
        disclosure(KEY, signed_grant(KEY, ["skills"], to=POOL), 1, elsewhere), NOW)

    assert len(disclosure_rows(system.registry.engine)) == 1


def test_an_employer_audience_naming_another_employer_is_refused(system):
    system.registry.policies.set_policy(
        EmployerPolicy(UTRECHT, frozenset({"employer"})), NOW)
    sideways = signed_grant(KEY, ["skills"], to=Audience("employer", employer=AMSTERDAM))
    before = registry_snapshot(system.registry.engine)

    with pytest.raises(InvalidAudience):
        system.registry.receive_disclosure(disclosure(KEY, sideways, 1), NOW)

    assert registry_snapshot(system.registry.engine) == before


def test_a_disclosure_naming_an_unknown_employer_is_refused(system):
    document = disclosure(KEY, signed_grant(KEY, ["skills"], to=POOL), 1)
    forged = sign_document({**document, "employer": "urn:nobody"}, KEY)

    with pytest.raises(UnknownEmployer):
        system.registry.receive_disclosure(forged, NOW)


def test_lifting_a_suspension_is_recorded_on_its_notice_for_the_holder(system):
    pooled = signed_grant(KEY, ["skills"], to=POOL)
    system.registry.receive_disclosure(disclosure(KEY, pooled, 1), NOW)
    system.registry.policies.set_policy(NO_POOL, NOW)
    later = NOW + timedelta(hours=2)

    system.registry.policies.set_policy(EVERYTHING, later)

    [notice] = system.registry.policies.notices(KEY.did)
    assert (notice.created, notice.lifted) == (NOW, later)
    assert notice.to_json()["lifted"] == format_time(later)
    system.registry.policies.set_policy(NO_POOL, later + timedelta(hours=1))
    first, second = system.registry.policies.notices(KEY.did)
    assert (first.lifted, second.lifted) == (later, None)
    assert "lifted" not in second.to_json()
