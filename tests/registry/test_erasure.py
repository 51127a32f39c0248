"""A holder's signed erasure request purges every disclosure and the holder row;
a forged or replayed one changes nothing, and no old document brings data back."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select

from consent import InvalidSignature, format_time, sign_document
from registry import (
    GrantWithdrawn,
    InvalidErasureRequest,
    ReplayedDocument,
    pseudonym_for,
)
from registry.db import registry_tables
from registry.holder_columns import HOLDER_KEY, holder_columns
from tests.factories import (
    NOW,
    UTRECHT,
    assignment,
    disclosure,
    disclosure_rows,
    holder_key,
    registry_snapshot,
    signed_grant,
    staff_requester,
    withdrawal,
)

HOLDER = holder_key(1)
OTHER = holder_key(2)
FIELDS = ["skills", "level", "employer", "hours_per_week"]
PSEUDONYM_WIDTH = len(pseudonym_for(b"key", HOLDER.did))


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


def holder_rows(system, did: str, pseudonym: str) -> dict[str, int]:
    """How many rows of each marked column name the holder."""
    found: dict[str, int] = {}
    with system.registry.engine.connect() as conn:
        for table, column, kind in holder_columns(registry_tables()):
            value = did if kind == "did" else pseudonym
            count = conn.execute(select(func.count()).select_from(table).where(
                column == value)).scalar_one()
            found[f"{table.name}.{column.name}"] = count
    return found


@pytest.fixture
def working(system, held):
    """HOLDER and OTHER in every table of the working life: swipes both ways, a
    pass, a team with a rating each way, an interest group HOLDER founded, an
    employment attestation and a policy notice."""
    staff = staff_requester(system)
    job = assignment(system, staff)
    mine = pseudonym_for(system.pseudonym_secret, HOLDER.did)
    theirs = pseudonym_for(system.pseudonym_secret, OTHER.did)
    rows = {
        "swipe": [dict(assignment_id=job.id, side=side, subject=who,
                       decision="like", decided=NOW)
                  for side in ("organisation", "holder") for who in (mine, theirs)],
        "assignment_pass": [dict(assignment_id=job.id, pseudonym=mine, created=NOW)],
        "team": [dict(id=1, name="team-een", assignment_id=job.id,
                      organisation=UTRECHT, created=NOW)],
        "team_member": [dict(team_id=1, subject=who) for who in (mine, theirs)],
        "rating_receipt": [dict(team_id=1, rater=a, rated=b, sent=NOW)
                           for a, b in ((mine, theirs), (theirs, mine))],
        "interest_group": [dict(id=1, slug="omgevingswet", name="Omgevingswet",
                                theme="invoering", created=NOW, founder=mine)],
        "group_member": [dict(group_id=1, subject=who, joined=NOW)
                         for who in (mine, theirs)],
        "employment": [dict(organisation=UTRECHT, subject=who, attested=NOW)
                       for who in (mine, theirs)],
        "policy_notice": [dict(holder_did=did, grant_id=grant.id,
                               organisation=UTRECHT, reason="policy", created=NOW)
                          for did, grant in ((HOLDER.did, held[0]),
                                             (OTHER.did, held[1]))],
        "video_share": [dict(share_id=f"{n:032x}", grant_id=grant.id, holder_did=did,
                             media_type="video/mp4", size=1, sealed_key=b"k",
                             prefix=b"p", received=NOW)
                        for n, (did, grant) in enumerate(((HOLDER.did, held[0]),
                                                          (OTHER.did, held[1])))],
    }
    tables = {table.name: table for table in registry_tables()}
    with system.registry.engine.begin() as conn:
        for name, values in rows.items():
            conn.execute(insert(tables[name]), values)
    return mine, theirs


def test_every_column_that_can_hold_a_pseudonym_or_a_did_is_marked():
    unmarked = [f"{table.name}.{column.name}" for table in registry_tables()
                for column in table.columns
                if (getattr(column.type, "length", None) == PSEUDONYM_WIDTH
                    or "did" in column.name)
                and column.info.get(HOLDER_KEY) is None]

    # A share id has a pseudonym's width but names a copy of a video, not a
    # person: the pod derives it with a key of its own (pod/video_share.py). The
    # disclosure naming one goes with the holder's other disclosures.
    assert sorted(unmarked) == ["disclosure.video_share", "erased_holder.pseudonym",
                                "video_share.share_id"]


def test_an_erasure_clears_the_holder_from_every_marked_column(system, working):
    mine, theirs = working
    before = holder_rows(system, HOLDER.did, mine)
    assert all(before.values()), before  # the scenario reaches every marked column

    system.registry.receive_erasure(erasure(HOLDER, 5), NOW)

    assert not any(holder_rows(system, HOLDER.did, mine).values())
    snapshot = registry_snapshot(system.registry.engine)
    cells = [cell for name, rows in snapshot.items() if name != "erased_holder"
             for row in rows for cell in row]
    assert not any(text in cell for cell in cells for text in (HOLDER.did, mine))


def test_an_erasure_keeps_the_other_members_rows(system, working):
    mine, theirs = working
    before = holder_rows(system, OTHER.did, theirs)

    system.registry.receive_erasure(erasure(HOLDER, 5), NOW)

    after = holder_rows(system, OTHER.did, theirs)
    lost_with_holder = {"rating_receipt.rater": 1, "rating_receipt.rated": 1}
    assert after == {k: v - lost_with_holder.get(k, 0) for k, v in before.items()}
    snapshot = registry_snapshot(system.registry.engine)
    assert len(snapshot["team"]) == 1 and len(snapshot["interest_group"]) == 1
    assert snapshot["interest_group"][0][-1] == "None"  # no founder any more
