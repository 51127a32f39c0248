"""A holder's signed erasure request purges every disclosure and the holder row;
a forged or replayed one changes nothing, and no old document brings data back."""

from __future__ import annotations

import pytest

from consent import InvalidSignature, format_time, sign_document
from registry import (
    GrantWithdrawn,
    InvalidErasureRequest,
    ReplayedDocument,
    pseudonym_for,
)
from tests.factories import (
    NOW,
    disclosure,
    disclosure_rows,
    holder_key,
    registry_snapshot,
    signed_grant,
    withdrawal,
)

HOLDER = holder_key(1)
OTHER = holder_key(2)
FIELDS = ["skills", "level", "employer", "hours_per_week"]


def erasure(key, sequence: int, **extra) -> dict:
    body = {"type": "ErasureRequest", "holder": key.did, "sequence": sequence,
            "issued": format_time(NOW), **extra}
    return sign_document(body, key)


@pytest.fixture
def held(system):
    """Two live grants and one withdrawn grant of HOLDER, one grant of OTHER."""
    grants = [signed_grant(HOLDER, FIELDS) for _ in range(3)]
    for sequence, grant in enumerate(grants, start=1):
        system.registry.receive_disclosure(disclosure(HOLDER, grant, sequence), NOW)
    system.registry.receive_withdrawal(withdrawal(HOLDER, grants[2], 4), NOW)
    system.registry.receive_disclosure(
        disclosure(OTHER, signed_grant(OTHER, FIELDS), 1), NOW)
    return grants


def rows_naming(system, did: str) -> list[str]:
    snapshot = registry_snapshot(system.registry.engine)
    return [name for name, rows in snapshot.items() for row in rows
            if any(did in cell for cell in row)]


def test_an_erasure_purges_every_row_that_names_the_holder(system, held):
    erased = system.registry.receive_erasure(erasure(HOLDER, 5), NOW)

    assert erased.disclosures == 2
    assert rows_naming(system, HOLDER.did) == []
    assert [row.holder_did for row in disclosure_rows(system.registry.engine)] == [
        OTHER.did]


def test_an_erasure_keeps_only_the_pseudonym_and_the_last_sequence(system, held):
    system.registry.receive_erasure(erasure(HOLDER, 5), NOW)

    kept = registry_snapshot(system.registry.engine)["erased_holder"]
    pseudonym = pseudonym_for(system.pseudonym_secret, HOLDER.did)
    assert len(kept) == 1 and kept[0][0] == repr(pseudonym) and kept[0][1] == "5"


def test_an_old_disclosure_replayed_after_erasure_is_refused(system, held):
    old = disclosure(HOLDER, held[0], 1)
    system.registry.receive_erasure(erasure(HOLDER, 5), NOW)

    before = registry_snapshot(system.registry.engine)
    with pytest.raises(ReplayedDocument):
        system.registry.receive_disclosure(old, NOW)
    assert registry_snapshot(system.registry.engine) == before


def test_an_old_withdrawal_replayed_after_erasure_is_refused(system, held):
    old = withdrawal(HOLDER, held[0], 2)
    system.registry.receive_erasure(erasure(HOLDER, 5), NOW)
    system.registry.receive_disclosure(disclosure(HOLDER, held[0], 6), NOW)

    before = registry_snapshot(system.registry.engine)
    with pytest.raises(ReplayedDocument):
        system.registry.receive_withdrawal(old, NOW)
    assert registry_snapshot(system.registry.engine) == before


def test_a_pod_that_moved_continues_above_the_erasure_sequence(system, held):
    system.registry.receive_erasure(erasure(HOLDER, 5), NOW)

    system.registry.receive_disclosure(disclosure(HOLDER, held[0], 6), NOW)

    assert len(disclosure_rows(system.registry.engine)) == 2


def test_a_grant_withdrawn_before_the_erasure_is_refused_after_it(system, held):
    system.registry.receive_erasure(erasure(HOLDER, 5), NOW)

    before = registry_snapshot(system.registry.engine)
    with pytest.raises(GrantWithdrawn):
        system.registry.receive_disclosure(disclosure(HOLDER, held[2], 6), NOW)
    assert registry_snapshot(system.registry.engine) == before
    system.registry.receive_disclosure(disclosure(HOLDER, held[0], 7), NOW)
    assert len(disclosure_rows(system.registry.engine)) == 2


def test_what_an_erasure_keeps_of_a_withdrawn_grant_names_neither_it_nor_the_holder(
        system, held):
    system.registry.receive_erasure(erasure(HOLDER, 5), NOW)

    pseudonym = pseudonym_for(system.pseudonym_secret, HOLDER.did)
    snapshot = registry_snapshot(system.registry.engine)
    cells = [cell for name, rows in snapshot.items() if name != "erased_holder"
             for row in rows for cell in row]
    assert len(snapshot["erased_withdrawal"]) == 1
    assert not any(text in cell for cell in cells
                   for text in (HOLDER.did, pseudonym, held[2].id))


def test_a_second_erasure_keeps_a_withdrawn_grant_once(system, held):
    system.registry.receive_erasure(erasure(HOLDER, 5), NOW)
    system.registry.receive_disclosure(disclosure(HOLDER, held[0], 6), NOW)
    system.registry.receive_withdrawal(withdrawal(HOLDER, held[2], 7), NOW)
    system.registry.receive_withdrawal(withdrawal(HOLDER, held[0], 8), NOW)

    system.registry.receive_erasure(erasure(HOLDER, 9), NOW)

    assert len(registry_snapshot(system.registry.engine)["erased_withdrawal"]) == 2
    for grant in (held[0], held[2]):
        with pytest.raises(GrantWithdrawn):
            system.registry.receive_disclosure(disclosure(HOLDER, grant, 10), NOW)


def test_the_last_sequence_of_a_holder_counts_the_erasure_floor(system, held):
    assert system.registry.last_sequence(HOLDER.did) == 4
    assert system.registry.last_sequence(OTHER.did) == 1
    assert system.registry.last_sequence(holder_key(3).did) == 0

    system.registry.receive_erasure(erasure(HOLDER, 9), NOW)

    assert system.registry.last_sequence(HOLDER.did) == 9


@pytest.mark.parametrize("make, error", [
    (lambda: erasure(HOLDER, 4), ReplayedDocument),
    (lambda: {**erasure(HOLDER, 5), "holder": OTHER.did}, InvalidSignature),
    (lambda: {**erasure(HOLDER, 5), "sequence": 6}, InvalidSignature),
    (lambda: erasure(HOLDER, 0), InvalidErasureRequest),
    (lambda: erasure(HOLDER, 5, extra="x"), InvalidErasureRequest),
    (lambda: {**erasure(HOLDER, 5), "type": "Withdrawal"}, InvalidErasureRequest),
    (lambda: {k: v for k, v in erasure(HOLDER, 5).items() if k != "proof"},
     InvalidSignature),
], ids=["replayed", "other-holder", "altered", "zero", "unknown-member",
        "wrong-type", "unsigned"])
def test_a_bad_erasure_request_changes_nothing(system, held, make, error):
    before = registry_snapshot(system.registry.engine)

    with pytest.raises(error):
        system.registry.receive_erasure(make(), NOW)

    assert registry_snapshot(system.registry.engine) == before
