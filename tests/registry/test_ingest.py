"""The registry stores a disclosure only if it is signed, live and new, and a refused
document changes nothing (DESIGN.md invariants 1, 3 and 9).

Each test compares every registry table before and after a refused document.
"""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from consent import (
    InvalidGrant,
    InvalidSignature,
    ProjectionMismatch,
    grant_from_json,
    sign_document,
)
from schemas import InvalidDocument
from registry import GrantIdTaken, GrantNotLive, RegistryError, ReplayedDocument
from tests.factories import (
    NOW,
    disclosure,
    disclosure_rows,
    full_workcontext,
    holder_key,
    registry_snapshot,
    signed_grant,
    withdrawal,
)

HOLDER = holder_key(1)
OTHER = holder_key(2)
FIELDS = ["skills", "level", "employer", "hours_per_week"]


def unsigned(document: dict) -> dict:
    return {k: v for k, v in copy.deepcopy(document).items() if k != "proof"}


def refused_without_change(system, document, error, now=NOW):
    before = registry_snapshot(system.registry.engine)
    with pytest.raises(error) as caught:
        if document.get("type") == "Withdrawal":
            system.registry.receive_withdrawal(document, now)
        else:
            system.registry.receive_disclosure(document, now)
    assert registry_snapshot(system.registry.engine) == before
    return caught.value


@pytest.fixture
def accepted(system):
    """A disclosure the registry holds, at sequence 5."""
    grant = signed_grant(HOLDER, FIELDS)
    system.registry.receive_disclosure(disclosure(HOLDER, grant, 5), NOW)
    return grant


def test_a_valid_disclosure_is_stored_with_its_fields(system, accepted):
    [row] = disclosure_rows(system.registry.engine, accepted.id)

    assert sorted(row.fields.split()) == sorted(FIELDS)
    assert (row.sequence, row.employer_code, row.level_rank) == (5, "GM0344", 3)
    assert "Jan Jansen" not in row.projection and "salaryScale" not in row.projection


def test_a_forged_disclosure_is_refused_and_changes_nothing(system, accepted):
    grant = signed_grant(HOLDER, FIELDS + ["name"])
    forged = sign_document(unsigned(disclosure(HOLDER, grant, 6)), OTHER)

    refused_without_change(system, forged, InvalidSignature)


def test_a_disclosure_claiming_another_holder_is_refused(system, accepted):
    body = unsigned(disclosure(OTHER, signed_grant(OTHER, FIELDS), 6))
    body["holder"] = HOLDER.did
    forged = sign_document(body, OTHER)
    forged["proof"]["verificationMethod"] = HOLDER.did

    refused_without_change(system, forged, InvalidSignature)


@pytest.mark.parametrize("change", [
    lambda d: d["workcontext"].__setitem__("name", "Jan Jansen"),
    lambda d: d["workcontext"]["functionLevel"].__setitem__("salaryScale", 11),
    lambda d: d["grant"]["fields"].append("name"),
    lambda d: d["grant"]["audience"].__setitem__("employer", "GM0363"),
    lambda d: d["grant"].__setitem__("validUntil", "2030-01-01T00:00:00Z"),
    lambda d: d.__setitem__("sequence", 99),
    lambda d: d["grant"]["proof"].__setitem__(
        "signature", d["grant"]["proof"]["signature"][::-1]),
], ids=["added-name", "added-salary", "grant-fields", "grant-audience",
        "grant-until", "sequence", "grant-proof"])
def test_an_altered_disclosure_is_refused_and_changes_nothing(system, accepted, change):
    altered = disclosure(HOLDER, signed_grant(HOLDER, FIELDS), 6)
    change(altered)

    refused_without_change(system, altered, InvalidSignature)


@pytest.mark.parametrize("sequence", [5, 4, 1])
def test_a_replayed_disclosure_is_refused_and_changes_nothing(system, accepted,
                                                              sequence):
    replay = disclosure(HOLDER, signed_grant(HOLDER, ["skills"]), sequence)

    error = refused_without_change(system, replay, ReplayedDocument)

    assert (error.sequence, error.last_sequence) == (sequence, 5)


def test_the_same_disclosure_delivered_twice_is_refused_the_second_time(system):
    document = disclosure(HOLDER, signed_grant(HOLDER, FIELDS), 1)
    system.registry.receive_disclosure(copy.deepcopy(document), NOW)

    refused_without_change(system, document, ReplayedDocument)


@pytest.mark.parametrize("sequence", [5, 2])
def test_a_withdrawal_overtaken_by_a_newer_document_still_withdraws(system, accepted,
                                                                   sequence):
    """The pod numbers its documents before it sends them: a disclosure numbered
    after the withdrawal can arrive first. A withdrawal only ever ends its grant,
    for good, so it counts whenever it arrives, and again if it is sent again."""
    for _ in range(2):
        system.registry.receive_withdrawal(withdrawal(HOLDER, accepted, sequence), NOW)

        assert disclosure_rows(system.registry.engine, accepted.id) == []
    with pytest.raises(RegistryError):
        system.registry.receive_disclosure(disclosure(HOLDER, accepted, 9), NOW)


def test_a_forged_withdrawal_is_refused_and_changes_nothing(system, accepted):
    forged = sign_document(unsigned(withdrawal(HOLDER, accepted, 6)), OTHER)

    refused_without_change(system, forged, InvalidSignature)
    assert disclosure_rows(system.registry.engine, accepted.id)


def test_another_holders_withdrawal_of_the_grant_id_deletes_nothing(system, accepted):
    with pytest.raises(GrantIdTaken):
        system.registry.receive_withdrawal(withdrawal(OTHER, accepted, 1), NOW)

    assert disclosure_rows(system.registry.engine, accepted.id)


def test_a_withdrawal_deletes_the_disclosure_rows(system, accepted):
    system.registry.receive_withdrawal(withdrawal(HOLDER, accepted, 6), NOW)

    assert disclosure_rows(system.registry.engine, accepted.id) == []
    snapshot = registry_snapshot(system.registry.engine)
    assert snapshot["disclosure"] == []
    assert snapshot["disclosure_purpose"] == snapshot["disclosure_skill"] == []


def test_a_disclosure_with_fields_outside_its_grant_is_refused(system, accepted):
    body = unsigned(disclosure(HOLDER, signed_grant(HOLDER, ["skills"]), 6))
    body["workcontext"]["email"] = "jan.jansen@example.nl"

    refused_without_change(system, sign_document(body, HOLDER), ProjectionMismatch)


@pytest.mark.parametrize("when", [NOW + timedelta(days=30), NOW + timedelta(days=31)])
def test_a_disclosure_under_a_grant_ended_at_receipt_is_refused(system, accepted,
                                                                when):
    document = disclosure(HOLDER, signed_grant(HOLDER, ["skills"]), 6)

    refused_without_change(system, document, GrantNotLive, now=when)


def test_a_disclosure_whose_projection_does_not_parse_is_refused(system, accepted):
    body = unsigned(disclosure(HOLDER, signed_grant(HOLDER, ["skills"]), 6))
    body["workcontext"]["skills"] = ["https://skills.example/not-esco"]

    refused_without_change(system, sign_document(body, HOLDER), InvalidDocument)


@pytest.mark.parametrize("term, field", [("worksFor", "employer"),
                                         ("hasOccupation", "occupation")])
def test_an_identifier_given_as_a_list_is_refused(system, accepted, term, field):
    body = unsigned(disclosure(HOLDER, signed_grant(HOLDER, [field]), 6))
    body["workcontext"][term] = [full_workcontext(HOLDER.did)[term]]

    refused_without_change(system, sign_document(body, HOLDER), InvalidDocument)


def test_a_new_disclosure_for_the_same_grant_replaces_the_old_one(system, accepted):
    changed = full_workcontext(HOLDER.did, hours_per_week=32)
    system.registry.receive_disclosure(disclosure(HOLDER, accepted, 6, changed), NOW)

    [row] = disclosure_rows(system.registry.engine, accepted.id)
    assert (row.sequence, row.hours_per_week) == (6, 32)


def test_a_disclosure_under_a_withdrawn_grant_is_refused(system, accepted):
    system.registry.receive_withdrawal(withdrawal(HOLDER, accepted, 6), NOW)

    with pytest.raises(RegistryError):
        system.registry.receive_disclosure(disclosure(HOLDER, accepted, 7), NOW)
    assert disclosure_rows(system.registry.engine, accepted.id) == []


def test_a_grant_id_already_used_by_another_holder_is_a_clear_client_error(
        system, accepted):
    body = signed_grant(OTHER, ["skills"]).to_json()
    body.pop("proof")
    body["id"] = accepted.id
    reused = grant_from_json(sign_document(body, OTHER))
    document = disclosure(OTHER, reused, 1)

    error = refused_without_change(system, document, RegistryError)

    assert 400 <= error.status < 500


def test_a_projection_whose_intro_video_is_no_web_address_is_refused(system):
    from consent import InvalidGrant
    from tests.factories import disclosure, full_workcontext, holder_key, signed_grant

    key = holder_key(95)
    document = full_workcontext(key.did)
    document["introVideo"] = {"type": "VideoObject",
                              "contentUrl": "javascript:alert(1)",
                              "encodingFormat": "video/mp4"}
    signed = disclosure(key, signed_grant(key, ["intro_video", "skills"]), 1, document)

    with pytest.raises(InvalidGrant, match="introVideo.contentUrl"):
        system.registry.receive_disclosure(signed, NOW)
