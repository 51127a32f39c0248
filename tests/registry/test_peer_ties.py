"""Colleagues with as many matching skills come in an order of the searching
organisation's own, so two organisations' pages do not share one order of people."""

from __future__ import annotations

from registry import pseudonym_for
from registry.peers import holder_requester
from tests.factories import (
    NOW,
    UTRECHT,
    ZEIST,
    disclosure,
    full_workcontext,
    holder_key,
    related_skills,
    signed_grant,
    trace_id,
)

NATIONAL = {"kind": "all_municipalities"}


def _colleagues(system, skill: str, count: int) -> set[str]:
    everyone = set()
    for n in range(200, 200 + count):
        key = holder_key(n)
        document = full_workcontext(key.did, skills=(skill,))
        grant = signed_grant(key, ["skills"], purposes=("knowledge_sharing",),
                             to=NATIONAL)
        system.registry.receive_disclosure(disclosure(key, grant, 1, document), NOW)
        everyone.add(pseudonym_for(system.pseudonym_secret, key.did))
    return everyone


def test_the_page_cut_of_equal_colleagues_follows_each_organisation_s_own_order(
        system):
    skill, _, _ = related_skills()
    everyone = _colleagues(system, skill, 16)
    names = system.registry.org_pseudonyms
    pages = {}
    for n, organisation in enumerate((UTRECHT, ZEIST)):
        searcher = holder_requester("f" * 32, organisation)
        found = system.work.peers.search(searcher, [skill], NOW, trace_id(n + 1),
                                         limit=5)
        pages[organisation] = [p.pseudonym for p, _ in found]
        in_order = sorted(everyone, key=lambda p: names.tie_key(organisation, p))
        assert pages[organisation] == in_order[:5]

    assert pages[UTRECHT] != pages[ZEIST]
    assert pages[UTRECHT] != sorted(everyone)[:5]
