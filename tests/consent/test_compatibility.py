"""Documents signed before grants could renew another grant and before disclosures
named an employer still verify and read the same: the new members are optional and
absent members change no signature (known-answer vectors in ``vectors/``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from consent import (
    HolderKey,
    InvalidSignature,
    make_disclosure,
    read_disclosure,
    read_withdrawal,
)
from tests.factories import NOW, full_workcontext, holder_key, signed_grant, tooi

VECTORS = json.loads(
    (Path(__file__).with_name("vectors") / "documents-2026-12.json").read_text())


def test_a_disclosure_signed_in_the_first_form_still_verifies_and_reads():
    found = read_disclosure(VECTORS["disclosure"])

    assert found.holder == HolderKey(bytes.fromhex(VECTORS["seed"])).did
    assert found.employer is None and found.grant.renews is None
    assert found.fields == {"level", "skills"}
    assert found.grant.to_json() == VECTORS["disclosure"]["grant"]


def test_a_withdrawal_signed_in_the_first_form_still_verifies():
    found = read_withdrawal(VECTORS["withdrawal"])

    assert found.grant_id == VECTORS["disclosure"]["grant"]["id"]


def test_the_first_form_vectors_carry_neither_new_member():
    assert "employer" not in VECTORS["disclosure"]
    assert "renews" not in VECTORS["disclosure"]["grant"]


def test_the_employer_a_disclosure_names_is_covered_by_the_signature():
    key = holder_key(1)
    document = make_disclosure(full_workcontext(key.did), signed_grant(key, ["skills"]),
                               1, key, NOW)
    assert read_disclosure(document).employer == tooi("GM0344")

    with pytest.raises(InvalidSignature):
        read_disclosure({**document, "employer": tooi("GM0363")})
