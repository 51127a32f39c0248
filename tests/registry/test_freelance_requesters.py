"""A holder without an attested employer (a freelancer) looks for colleagues on
behalf of no organisation: no grant's audience contains ``freelance``, so they are
shown nobody, nothing is logged, and no organisation key is derived for them (one
would be shared by every freelancer: one name of a colleague, one order)."""

from __future__ import annotations

import pytest

from registry import pseudonym_for
from registry.errors_work import InvalidWorkInput, NotAGroupMember
from registry.peers import FREELANCE, holder_requester
from tests.factories import (
    NOW,
    UTRECHT,
    disclosure,
    full_workcontext,
    holder_key,
    related_skills,
    signed_grant,
    trace_id,
)

WIDEST = ({"kind": "cross_sector"}, {"kind": "all_municipalities"})


def _sharing_colleague(system, skill: str) -> str:
    """A colleague who shares name and skills for knowledge sharing with every
    organisation there is; their pseudonym."""
    key = holder_key(300)
    document = full_workcontext(key.did, skills=(skill,))
    for sequence, audience in enumerate(WIDEST, start=1):
        grant = signed_grant(key, ["name", "skills"], purposes=("knowledge_sharing",),
                             to=audience)
        system.registry.receive_disclosure(disclosure(key, grant, sequence, document),
                                           NOW)
    return pseudonym_for(system.pseudonym_secret, key.did)


def _freelancers(system) -> list:
    return [holder_requester(pseudonym_for(system.pseudonym_secret,
                                           holder_key(n).did), None)
            for n in (301, 302)]


def test_freelancers_share_no_organisation_and_find_no_colleague(system):
    skill, _, _ = related_skills()
    colleague = _sharing_colleague(system, skill)

    found = [system.work.peers.search(f, [skill], NOW, trace_id(n))
             for n, f in enumerate(_freelancers(system), start=1)]

    assert {f.organisation for f in _freelancers(system)} == {FREELANCE}
    assert found == [[], []]
    assert system.audit.entries(limit=10) == []
    employee = holder_requester("f" * 32, UTRECHT)
    [(shown, _)] = system.work.peers.search(employee, [skill], NOW, trace_id(3))
    assert shown.pseudonym == colleague


def test_freelancers_in_a_group_are_suggested_nobody(system):
    skill, _, _ = related_skills()
    colleague = _sharing_colleague(system, skill)
    peers = system.work.peers
    first, second = _freelancers(system)
    peers.create_group("omgevingswet", "Omgevingswet", "", colleague, NOW)
    for freelancer in (first, second):
        peers.join("omgevingswet", freelancer.actor, NOW)

    found = [peers.suggestions(f, "omgevingswet", NOW, trace_id(n))
             for n, f in enumerate((first, second), start=1)]

    assert found == [[], []]
    assert system.audit.entries(limit=10) == []


def test_a_freelancer_s_search_still_checks_its_input_and_membership(system):
    first, _ = _freelancers(system)

    with pytest.raises(InvalidWorkInput) as refused:
        system.work.peers.search(first, ["Bestuursrecht"], NOW, trace_id(1))
    assert "vaardigheid 1" in refused.value.problems[0]
    system.work.peers.create_group("omgevingswet", "Omgevingswet", "", "a" * 32, NOW)
    with pytest.raises(NotAGroupMember):
        system.work.peers.suggestions(first, "omgevingswet", NOW, trace_id(2))
