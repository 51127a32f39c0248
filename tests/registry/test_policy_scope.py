"""An employer's policy governs only the holders it attests as employees, at that
moment: naming an employer in one's Workcontext does not submit one's grants to
its policy. Attesting an employee applies the policy to their grants (with a
notice); ending the employment lifts what the policy suspended (the lift recorded
on the notice), in the transaction that ends it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from consent import AudienceRefusedByEmployer
from tests.factories import (
    AMSTERDAM,
    NOW,
    UTRECHT,
    disclosure,
    disclosure_rows,
    holder_key,
    signed_grant,
)
from tests.registry.test_suspension import (
    ALL,
    KEY,
    NO_POOL,
    NONE,
    POOL,
    _published,
    _seen,
)

OTHER = holder_key(32)
LATER = NOW + timedelta(hours=3)


def _employed(system, key=KEY) -> str:
    return system.registry.employment.attest(UTRECHT, key.did, NOW).reference


def _suspended_by(system) -> dict[str, str | None]:
    rows = disclosure_rows(system.registry.engine)
    return {r.holder_did: r.suspended_by for r in rows}


def test_a_policy_does_not_refuse_a_holder_its_employer_never_attested(system):
    system.registry.policies.set_policy(NO_POOL, NOW)

    system.registry.receive_disclosure(
        disclosure(KEY, signed_grant(KEY, ["skills"], to=POOL), 1), NOW)

    assert _suspended_by(system) == {KEY.did: None}
    assert system.registry.policies.notices(KEY.did) == []


def test_a_policy_refuses_an_attested_employee_at_ingest(system):
    _employed(system)
    system.registry.policies.set_policy(NO_POOL, NOW)

    with pytest.raises(AudienceRefusedByEmployer):
        system.registry.receive_disclosure(
            disclosure(KEY, signed_grant(KEY, ["skills"], to=POOL), 1), NOW)


def test_setting_a_policy_suspends_only_attested_employees(system):
    _employed(system)
    for key in (KEY, OTHER):
        system.registry.receive_disclosure(
            disclosure(key, signed_grant(key, ["skills"], to=POOL), 1), NOW)

    system.registry.policies.set_policy(NO_POOL, NOW)

    assert _suspended_by(system) == {KEY.did: UTRECHT, OTHER.did: None}
    assert system.registry.policies.notices(OTHER.did) == []
    assert len(system.registry.policies.notices(KEY.did)) == 1


def test_attesting_an_employee_applies_the_policy_with_a_notice(system):
    system.registry.policies.set_policy(NO_POOL, NOW)
    grant = _published(system, employed=False)
    jobs: dict = {}
    before = _seen(system, AMSTERDAM, jobs)

    system.registry.employment.attest(UTRECHT, KEY.did, LATER)

    assert before == ALL
    assert _seen(system, AMSTERDAM, jobs) == NONE
    assert _seen(system, UTRECHT, jobs) == ALL
    [notice] = system.registry.policies.notices(KEY.did)
    assert (notice.grant_id, notice.organisation, notice.created) == (
        grant.id, UTRECHT, LATER)
    assert "cross_sector" in notice.reason
    system.registry.employment.attest(UTRECHT, KEY.did, LATER)  # no second notice
    assert len(system.registry.policies.notices(KEY.did)) == 1


def test_ending_an_employment_lifts_the_policys_suspension_and_records_it(system):
    reference = _employed(system)
    grant = _published(system)
    jobs: dict = {}
    _seen(system, AMSTERDAM, jobs)  # the ranking's index is loaded before
    system.registry.policies.set_policy(NO_POOL, NOW)
    during = _seen(system, AMSTERDAM, jobs)

    system.registry.employment.end(UTRECHT, reference, LATER)

    assert during == NONE
    assert _seen(system, AMSTERDAM, jobs) == ALL
    assert _suspended_by(system) == {KEY.did: None}
    [notice] = system.registry.policies.notices(KEY.did)
    assert (notice.grant_id, notice.lifted) == (grant.id, LATER)
    assert system.registry.policies.suspended(KEY.did) == frozenset()


def test_after_the_end_a_save_under_the_grant_is_taken_unsuspended(system):
    reference = _employed(system)
    grant = signed_grant(KEY, ["skills"], to=POOL)
    system.registry.receive_disclosure(disclosure(KEY, grant, 1), NOW)
    system.registry.policies.set_policy(NO_POOL, NOW)
    system.registry.employment.end(UTRECHT, reference, NOW)

    system.registry.receive_disclosure(disclosure(KEY, grant, 2), NOW)

    assert _suspended_by(system) == {KEY.did: None}


def test_attesting_again_suspends_again_with_a_new_notice(system):
    reference = _employed(system)
    _published(system)
    system.registry.policies.set_policy(NO_POOL, NOW)
    system.registry.employment.end(UTRECHT, reference, NOW)

    system.registry.employment.attest(UTRECHT, KEY.did, LATER)

    assert _suspended_by(system) == {KEY.did: UTRECHT}
    first, second = system.registry.policies.notices(KEY.did)
    assert (first.lifted, second.created, second.lifted) == (NOW, LATER, None)


def test_bulk_ingest_applies_the_policy_only_to_attested_employees(system):
    _employed(system)
    system.registry.policies.set_policy(NO_POOL, NOW)
    documents = [disclosure(key, signed_grant(key, ["skills"], to=POOL), 1)
                 for key in (KEY, OTHER)]

    result = system.registry.bulk.disclosures([json.dumps(d) for d in documents], NOW)

    assert result.refused == [(0, "audience-refused-by-employer")]
    assert result.accepted == 1
    assert _suspended_by(system) == {OTHER.did: None}
