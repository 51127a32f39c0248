"""A disclosure is read only if it is the holder's own, signed projection that
stays inside its grant."""

from __future__ import annotations

import pytest

from consent import (
    InvalidGrant,
    grant_from_json,
    InvalidSignature,
    ProjectionMismatch,
    make_disclosure,
    read_disclosure,
    sign_document,
    verify_document,
)
from tests.factories import NOW, full_workcontext, holder_key, signed_grant

HOLDER = holder_key(1)
OTHER = holder_key(2)


def test_a_disclosure_holds_only_the_projection_of_its_grant():
    grant = signed_grant(HOLDER, ["skills", "level"])

    found = read_disclosure(make_disclosure(full_workcontext(HOLDER.did), grant, 1,
                                            HOLDER, NOW))

    assert found.fields == {"skills", "level"}
    assert "salaryScale" not in found.workcontext["functionLevel"]
    assert "name" not in found.workcontext and "email" not in found.workcontext


def test_a_disclosure_of_salary_scale_alone_is_read_as_salary_scale_alone():
    grant = signed_grant(HOLDER, ["salary_scale"])

    found = read_disclosure(make_disclosure(full_workcontext(HOLDER.did), grant, 1,
                                            HOLDER, NOW))

    assert found.fields == {"salary_scale"}


def test_a_signed_projection_with_fields_outside_its_grant_is_refused():
    grant = signed_grant(HOLDER, ["skills"])
    body = {k: v for k, v in make_disclosure(
        full_workcontext(HOLDER.did), grant, 1, HOLDER, NOW).items() if k != "proof"}
    body["workcontext"]["email"] = "jan.jansen@example.nl"

    with pytest.raises(ProjectionMismatch) as caught:
        read_disclosure(sign_document(body, HOLDER))

    assert caught.value.paths == ["email"]


def test_a_signed_projection_with_salary_scale_under_a_level_grant_is_refused():
    grant = signed_grant(HOLDER, ["level"])
    body = {k: v for k, v in make_disclosure(
        full_workcontext(HOLDER.did), grant, 1, HOLDER, NOW).items() if k != "proof"}
    body["workcontext"]["functionLevel"]["salaryScale"] = 11

    with pytest.raises(ProjectionMismatch):
        read_disclosure(sign_document(body, HOLDER))


def test_a_disclosure_resting_on_another_holders_grant_is_refused():
    grant = signed_grant(OTHER, ["skills"])
    document = make_disclosure(full_workcontext(HOLDER.did), grant, 1, HOLDER, NOW)

    with pytest.raises(InvalidGrant):
        read_disclosure(document)


def test_a_disclosure_of_another_persons_workcontext_is_refused():
    grant = signed_grant(HOLDER, ["skills"])
    document = make_disclosure(full_workcontext(OTHER.did), grant, 1, HOLDER, NOW)

    with pytest.raises(InvalidGrant):
        read_disclosure(document)


@pytest.mark.parametrize("sequence", [0, -1, "1", True, None])
def test_a_disclosure_needs_a_positive_integer_sequence(sequence):
    grant = signed_grant(HOLDER, ["skills"])
    body = {k: v for k, v in make_disclosure(
        full_workcontext(HOLDER.did), grant, 1, HOLDER, NOW).items() if k != "proof"}
    body["sequence"] = sequence

    with pytest.raises(InvalidGrant):
        read_disclosure(sign_document(body, HOLDER))


def test_a_float_anywhere_in_a_signed_document_is_an_invalid_signature():
    grant = signed_grant(HOLDER, ["skills"])
    document = make_disclosure(full_workcontext(HOLDER.did), grant, 1, HOLDER, NOW)
    document["sequence"] = 1.0

    with pytest.raises(InvalidSignature):
        verify_document(document, HOLDER.did)


def test_a_parsed_disclosure_reads_as_the_same_disclosure_or_the_same_refusal():
    import json

    from consent import ConsentError
    from schemas import parse_bounded
    from tests.factories import disclosure

    key = holder_key(7)
    good = disclosure(key, signed_grant(key, ["skills", "level"]), 3)
    forged = json.loads(json.dumps(good))
    forged["workcontext"]["skills"] = forged["workcontext"]["skills"][:1]
    for document in (good, forged):
        outcomes = []
        for parsed in (False, True):
            text = json.dumps(document)
            try:
                outcomes.append(read_disclosure(parse_bounded(text),
                                                parsed_bounded=parsed))
            except ConsentError as exc:
                outcomes.append(type(exc))
        assert outcomes[0] == outcomes[1]


def _with_grant_proof(proof: dict) -> dict:
    """A disclosure the holder signed over a grant whose proof was replaced first."""
    grant = signed_grant(HOLDER, ["skills"])
    body = {k: v for k, v in make_disclosure(
        full_workcontext(HOLDER.did), grant, 1, HOLDER, NOW).items() if k != "proof"}
    body["grant"]["proof"] = proof
    return sign_document(body, HOLDER)


def test_a_grant_with_a_broken_proof_is_read_in_its_holders_signed_disclosure():
    # The holder's signature over the disclosure covers the grant byte for byte,
    # its proof included: the grant's terms are the holder's. Its own signature is
    # not verified again (consent.grant.grant_in_signed_document), and read alone
    # the same grant is still refused.
    document = _with_grant_proof({"verificationMethod": HOLDER.did,
                                  "signature": "A" * 86})

    found = read_disclosure(document)

    assert found.grant.fields == ("skills",) and found.grant.holder == HOLDER.did
    with pytest.raises(InvalidSignature):
        grant_from_json(document["grant"])


@pytest.mark.parametrize("proof", [
    {"verificationMethod": OTHER.did, "signature": "A" * 86},
    {"verificationMethod": HOLDER.did},
    {"verificationMethod": HOLDER.did, "signature": "A" * 201},
    "A" * 86,
], ids=["other-signer", "no-signature", "too-long", "not-an-object"])
def test_a_grant_proof_not_naming_the_holder_is_refused_in_a_signed_disclosure(proof):
    with pytest.raises(InvalidSignature):
        read_disclosure(_with_grant_proof(proof))


def test_a_grant_without_a_proof_is_refused_in_a_signed_disclosure():
    grant = signed_grant(HOLDER, ["skills"])
    body = {k: v for k, v in make_disclosure(
        full_workcontext(HOLDER.did), grant, 1, HOLDER, NOW).items() if k != "proof"}
    del body["grant"]["proof"]

    with pytest.raises(InvalidSignature):
        read_disclosure(sign_document(body, HOLDER))
