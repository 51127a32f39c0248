"""A signed grant, disclosure or withdrawal verifies exactly as it was signed.

Every member at every depth is changed, removed, or joined by a new one, and each
such document must fail with the one opaque InvalidSignature; so must a document
signed by another key, one presented as another type, and one naming a bad did.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from consent import (
    InvalidGrant,
    InvalidSignature,
    read_disclosure,
    read_withdrawal,
    sign_document,
    verify_document,
)
from consent.grant import grant_from_json
from tests.factories import disclosure, holder_key, signed_grant, withdrawal

HOLDER = holder_key(1)
OTHER = holder_key(2)
FIELDS = ["skills", "level", "employer", "hours_per_week", "available_period"]

Path = tuple[Any, ...]


def signed_documents() -> dict[str, dict]:
    grant = signed_grant(HOLDER, FIELDS)
    return {
        "grant": grant.to_json(),
        "disclosure": disclosure(HOLDER, grant, 1),
        "withdrawal": withdrawal(HOLDER, grant, 2),
    }


DOCUMENTS = signed_documents()


def paths(node: Any, prefix: Path = ()) -> Iterator[Path]:
    """The path of every member and item below ``node``, depth first."""
    items = node.items() if isinstance(node, dict) else (
        enumerate(node) if isinstance(node, list) else ())
    for key, child in items:
        yield prefix + (key,)
        yield from paths(child, prefix + (key,))


def objects(node: Any, prefix: Path = ()) -> Iterator[Path]:
    """The path of every JSON object, ``node`` itself included."""
    if isinstance(node, dict):
        yield prefix
    items = node.items() if isinstance(node, dict) else (
        enumerate(node) if isinstance(node, list) else ())
    for key, child in items:
        yield from objects(child, prefix + (key,))


def changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x" if value else "x"
    if isinstance(value, list):
        return [*value, "x"]
    if isinstance(value, dict):
        return {**value, "x": "x"}
    return "x"


def parent_of(document: dict, path: Path) -> Any:
    node: Any = document
    for step in path[:-1]:
        node = node[step]
    return node


def mutations(document: dict) -> Iterator[tuple[str, dict]]:
    """(what changed, changed copy) for every member outside the top-level proof."""
    body = {k: v for k, v in document.items() if k != "proof"}
    for path in paths(body):
        for kind in ("changed", "removed"):
            mutated = copy.deepcopy(document)
            parent = parent_of(mutated, path)
            if kind == "changed":
                parent[path[-1]] = changed(parent[path[-1]])
            else:
                del parent[path[-1]]
            yield f"{kind} {'.'.join(map(str, path))}", mutated
    for path in objects(body):
        mutated = copy.deepcopy(document)
        target = parent_of(mutated, path + ("new",)) if path else mutated
        target["addedMember"] = "x"
        yield f"added a member to {'.'.join(map(str, path)) or 'the document'}", mutated


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_a_signed_document_verifies_for_its_holder(kind):
    verify_document(DOCUMENTS[kind], HOLDER.did)


def test_signed_grant_disclosure_and_withdrawal_read_back():
    grant = grant_from_json(DOCUMENTS["grant"])
    found = read_disclosure(DOCUMENTS["disclosure"])
    withdrawn = read_withdrawal(DOCUMENTS["withdrawal"])

    assert grant.holder == found.holder == withdrawn.holder == HOLDER.did
    assert found.grant == grant and withdrawn.grant_id == grant.id
    assert (found.sequence, withdrawn.sequence) == (1, 2)


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_any_change_to_any_member_breaks_the_signature(kind):
    tried = 0
    for what, mutated in mutations(DOCUMENTS[kind]):
        with pytest.raises(InvalidSignature):
            verify_document(mutated, HOLDER.did)
        tried += 1

    # Every member of the body (nested ones too) was tried, twice, plus additions.
    assert tried >= 2 * len(list(paths(DOCUMENTS[kind]))) - 2 * 3


def test_any_change_inside_a_disclosure_is_refused_by_read_disclosure():
    for what, mutated in mutations(DOCUMENTS["disclosure"]):
        if mutated.get("type") != "Disclosure":
            continue  # a changed type is refused earlier, as the wrong kind
        # An added member is refused before the signature is even checked.
        with pytest.raises((InvalidSignature, InvalidGrant)):
            read_disclosure(mutated)


@pytest.mark.parametrize("kind", DOCUMENTS)
@pytest.mark.parametrize("member", ["verificationMethod", "signature"])
def test_a_changed_proof_breaks_the_signature(kind, member):
    mutated = copy.deepcopy(DOCUMENTS[kind])
    mutated["proof"][member] = changed(mutated["proof"][member])

    with pytest.raises(InvalidSignature):
        verify_document(mutated, HOLDER.did)


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_a_missing_or_malformed_proof_is_an_invalid_signature(kind):
    for proof in (None, "sig", [], {}, {"verificationMethod": HOLDER.did},
                  {"verificationMethod": HOLDER.did, "signature": 5}):
        mutated = copy.deepcopy(DOCUMENTS[kind])
        if proof is None:
            del mutated["proof"]
        else:
            mutated["proof"] = proof
        with pytest.raises(InvalidSignature):
            verify_document(mutated, HOLDER.did)


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_a_document_signed_by_another_key_does_not_verify_for_the_holder(kind):
    body = {k: v for k, v in DOCUMENTS[kind].items() if k != "proof"}
    forged = sign_document(body, OTHER)
    claimed = copy.deepcopy(forged)
    claimed["proof"]["verificationMethod"] = HOLDER.did

    verify_document(forged, OTHER.did)
    with pytest.raises(InvalidSignature):
        verify_document(forged, HOLDER.did)
    with pytest.raises(InvalidSignature):
        verify_document(claimed, HOLDER.did)


def test_a_disclosure_signed_by_another_key_is_refused():
    body = {k: v for k, v in DOCUMENTS["disclosure"].items() if k != "proof"}

    with pytest.raises(InvalidSignature):
        read_disclosure(sign_document(body, OTHER))


def test_a_grant_signed_by_another_key_is_refused():
    body = {k: v for k, v in DOCUMENTS["grant"].items() if k != "proof"}

    with pytest.raises(InvalidSignature):
        grant_from_json(sign_document(body, OTHER))


def test_a_disclosure_presented_as_a_withdrawal_is_refused():
    swapped = copy.deepcopy(DOCUMENTS["disclosure"])
    swapped["type"] = "Withdrawal"
    swapped["grant"] = swapped["grant"]["id"]
    del swapped["workcontext"]
    swapped.pop("employer", None)  # a member only a disclosure may have

    with pytest.raises(InvalidSignature):
        read_withdrawal(swapped)
    swapped_only_type = {**DOCUMENTS["disclosure"], "type": "Withdrawal"}
    with pytest.raises(InvalidSignature):
        verify_document(swapped_only_type, HOLDER.did)


def test_a_withdrawal_presented_as_a_disclosure_is_refused():
    swapped = {**DOCUMENTS["withdrawal"], "type": "Disclosure"}

    with pytest.raises(InvalidSignature):
        verify_document(swapped, HOLDER.did)


@pytest.mark.parametrize("kind", DOCUMENTS)
@pytest.mark.parametrize(
    "did", ["", "did:key:z", "did:web:gemeente.example", HOLDER.did[:-1], None, 7])
def test_a_malformed_signer_did_is_an_invalid_signature(kind, did):
    mutated = copy.deepcopy(DOCUMENTS[kind])
    mutated["proof"]["verificationMethod"] = did

    with pytest.raises(InvalidSignature):
        verify_document(mutated, did)


def test_a_disclosure_with_a_malformed_holder_did_is_refused():
    mutated = copy.deepcopy(DOCUMENTS["disclosure"])
    mutated["holder"] = mutated["proof"]["verificationMethod"] = "did:key:zNOPE"

    with pytest.raises(InvalidSignature):
        read_disclosure(mutated)


def test_invalid_signature_says_nothing_about_why():
    messages = set()
    for _, mutated in list(mutations(DOCUMENTS["grant"]))[:10]:
        with pytest.raises(InvalidSignature) as caught:
            verify_document(mutated, HOLDER.did)
        messages.add(str(caught.value))

    assert messages == {"signature verification failed"}
