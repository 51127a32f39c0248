"""A grant to "my employer and its neighbours" is hidden from every organisation on
every path that reads disclosures once the employer ends the employment it
attested; a save under the grant, one by one or in bulk, stays hidden, as does a
policy change; attesting the employment again shows it (or suspends it, if the
employer's policy now refuses it)."""

from __future__ import annotations

import json

from consent import KINDS, Audience, EmployerPolicy
from tests.factories import NOW, UTRECHT, disclosure, full_workcontext, signed_grant
from tests.registry.test_suspension import ALL, KEY, NONE, PURPOSES
from tests.registry.test_suspension import _published, _seen

ZEIST = "GM0355"  # a neighbour of Utrecht
NEAR = Audience("employer_and_neighbours", employer=UTRECHT)
NO_NEAR = EmployerPolicy(UTRECHT, frozenset(KINDS) - {"employer_and_neighbours"})
EVERYTHING = EmployerPolicy(UTRECHT, frozenset(KINDS))


def _employed(system) -> str:
    return system.registry.employment.attest(UTRECHT, KEY.did, NOW).reference


def _views(system, jobs) -> dict:
    return {org: _seen(system, org, jobs) for org in (UTRECHT, ZEIST)}


def test_an_ended_employment_hides_the_grant_on_every_path(system):
    reference = _employed(system)
    _published(system, to=NEAR)
    jobs: dict = {}
    before = _views(system, jobs)

    system.registry.employment.end(UTRECHT, reference, NOW)

    assert before == {UTRECHT: ALL, ZEIST: ALL}
    assert _views(system, jobs) == {UTRECHT: NONE, ZEIST: NONE}


def test_attesting_again_shows_the_grant_on_every_path(system):
    reference = _employed(system)
    _published(system, to=NEAR)
    jobs: dict = {}
    _views(system, jobs)  # the ranking's index is loaded before
    system.registry.employment.end(UTRECHT, reference, NOW)

    _employed(system)

    assert _views(system, jobs) == {UTRECHT: ALL, ZEIST: ALL}


def test_a_policy_change_leaves_an_ended_grant_hidden(system):
    reference = _employed(system)
    _published(system, to=NEAR)
    system.registry.employment.end(UTRECHT, reference, NOW)

    system.registry.policies.set_policy(NO_NEAR, NOW)
    system.registry.policies.set_policy(EVERYTHING, NOW)

    assert _views(system, {}) == {UTRECHT: NONE, ZEIST: NONE}


def test_attesting_again_under_a_refusing_policy_suspends_the_grant(system):
    reference = _employed(system)
    _published(system, to=NEAR)
    system.registry.employment.end(UTRECHT, reference, NOW)
    system.registry.policies.set_policy(NO_NEAR, NOW)

    _employed(system)

    assert _views(system, {}) == {UTRECHT: ALL, ZEIST: NONE}


def _again(grant, sequence: int) -> dict:
    document = full_workcontext(KEY.did, employer=UTRECHT)
    document.pop("introVideo", None)
    return disclosure(KEY, grant, sequence, document)


def test_a_save_under_an_ended_grant_stays_hidden(system):
    reference = _employed(system)
    grant = signed_grant(KEY, ["skills", "level"], purposes=PURPOSES, to=NEAR)
    system.registry.receive_disclosure(_again(grant, 1), NOW)
    system.registry.employment.end(UTRECHT, reference, NOW)

    system.registry.receive_disclosure(_again(grant, 2), NOW)

    assert [_seen(system, org, {})["fields"] for org in (UTRECHT, ZEIST)] == [
        False, False]


def test_a_bulk_save_under_an_ended_grant_stays_hidden(system):
    reference = _employed(system)
    grant = signed_grant(KEY, ["skills", "level"], purposes=PURPOSES, to=NEAR)
    system.registry.receive_disclosure(_again(grant, 1), NOW)
    system.registry.employment.end(UTRECHT, reference, NOW)

    result = system.registry.bulk.disclosures([json.dumps(_again(grant, 2))], NOW)

    assert result.accepted == 1
    assert [_seen(system, org, {})["fields"] for org in (UTRECHT, ZEIST)] == [
        False, False]
    assert [_seen(system, org, {})["ranking"] for org in (UTRECHT, ZEIST)] == [
        False, False]

