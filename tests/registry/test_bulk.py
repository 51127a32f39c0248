"""Bulk ingest keeps every rule of the one-by-one path: signatures verified, replays
and withdrawn grants refused by position, and the stored result the same."""

from __future__ import annotations

import json

from tests.factories import (
    NOW,
    disclosure,
    full_workcontext,
    holder_key,
    registry_snapshot,
    signed_grant,
    withdrawal,
)


def documents():
    out = []
    for n in range(6):
        key = holder_key(n)
        out.append(disclosure(key, signed_grant(key, ["skills", "level"]), 1))
        out.append(disclosure(key, signed_grant(key, ["hours_per_week"]), 2))
    return out


def test_bulk_ingest_stores_every_disclosure_with_its_child_rows(system):
    docs = documents()

    result = system.registry.bulk.disclosures([json.dumps(d) for d in docs], NOW)

    rows = registry_snapshot(system.registry.engine)
    assert result.accepted == len(docs) and result.refused == []
    assert len(rows["disclosure"]) == 12 and len(rows["holder"]) == 6
    assert len(rows["disclosure_skill"]) == 6 * 3  # the first grant's three skills
    assert len(rows["disclosure_purpose"]) == 12


def test_a_forged_document_is_refused_by_position_and_the_rest_is_stored(system):
    docs = documents()
    docs[3]["workcontext"]["availability"] = {"hoursPerWeek": 40}  # signature breaks

    result = system.registry.bulk.disclosures([json.dumps(d) for d in docs], NOW)

    assert result.refused == [(3, "invalid-signature")]
    assert result.accepted == len(docs) - 1


def test_replays_and_withdrawn_grants_are_refused_in_bulk(system):
    key = holder_key(1)
    grant = signed_grant(key, ["skills"])
    system.registry.receive_disclosure(disclosure(key, grant, 1), NOW)
    system.registry.receive_withdrawal(withdrawal(key, grant, 2), NOW)
    other = signed_grant(key, ["level"])
    before = registry_snapshot(system.registry.engine)

    result = system.registry.bulk.disclosures(
        [json.dumps(disclosure(key, other, 2)), json.dumps(disclosure(key, grant, 3))],
        NOW)

    assert sorted(result.refused) == [(0, "replayed-document"), (1, "grant-withdrawn")]
    assert registry_snapshot(system.registry.engine) == before


def test_a_signed_projection_naming_an_unknown_skill_is_refused_in_bulk(system):
    key = holder_key(1)
    document = full_workcontext(key.did, skills=(
        "http://data.europa.eu/esco/skill/00000000-0000-0000-0000-000000000000",))
    signed = disclosure(key, signed_grant(key, ["skills"]), 1, document)
    before = registry_snapshot(system.registry.engine)

    result = system.registry.bulk.disclosures([json.dumps(signed)], NOW)

    assert result.refused == [(0, "invalid-document")] and result.accepted == 0
    assert registry_snapshot(system.registry.engine) == before
