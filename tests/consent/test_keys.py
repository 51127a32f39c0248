"""Holder identities are Ed25519 did:keys, and signatures made with them verify.

Known-answer vectors come from the W3C vc-di-eddsa test vectors in
``shared/vectors/vc-di-eddsa`` (key pair, JCS canonical form, raw signature).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from consent import (
    HolderKey,
    InvalidSignature,
    did_from_public_key,
    public_key_from_did,
)
from consent.canonical import canonical_bytes
from consent.keys import b64url, verify

VECTORS = Path(
    os.environ.get("VG_VECTORS_DIR")
    or Path(__file__).resolve().parents[3] / "shared" / "vectors"
) / "vc-di-eddsa"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def base58_decode(text: str) -> bytes:
    """A plain base58btc decoder, separate from the one under test."""
    value = 0
    for char in text:
        value = value * 58 + BASE58.index(char)
    length = (value.bit_length() + 7) // 8
    return b"\0" * (len(text) - len(text.lstrip("1"))) + value.to_bytes(length, "big")


def vector_key_pair() -> tuple[bytes, bytes, str]:
    """(seed, public key, did) of the vc-di-eddsa key pair."""
    pair = json.loads((VECTORS / "keyPair.json").read_text())
    public = base58_decode(pair["publicKeyMultibase"][1:])
    secret = base58_decode(pair["privateKeyMultibase"][1:])
    assert public[:2] == b"\xed\x01" and secret[:2] == b"\x80\x26"
    return secret[2:], public[2:], "did:key:" + pair["publicKeyMultibase"]


def test_holder_key_did_matches_the_known_answer_vector():
    seed, public, did = vector_key_pair()

    assert HolderKey(seed).did == did
    assert did_from_public_key(public) == did
    assert public_key_from_did(did) == public


def test_holder_key_signature_matches_the_known_answer_vector():
    seed, _, did = vector_key_pair()
    message = bytes.fromhex((VECTORS / "eddsa-jcs-2022" / "combinedHashJCS.txt")
                            .read_text().strip())
    expected = bytes.fromhex((VECTORS / "eddsa-jcs-2022" / "sigHexJCS.txt")
                             .read_text().strip())

    signature = HolderKey(seed).sign(message)

    assert signature == b64url(expected)
    verify(did, message, signature)


def test_canonical_bytes_equal_the_rfc_8785_known_answer():
    document = json.loads((VECTORS / "unsigned.json").read_text())
    expected = (VECTORS / "eddsa-jcs-2022" / "canonDocJCS.txt").read_bytes()

    assert canonical_bytes(document) == expected


@pytest.mark.parametrize("seed", [bytes(32), b"\xff" * 32, bytes(range(32))])
def test_did_key_round_trips_to_the_same_public_key(seed):
    key = HolderKey(seed)

    public = public_key_from_did(key.did)

    assert key.did.startswith("did:key:z6Mk")
    assert did_from_public_key(public) == key.did
    assert len(public) == 32


def test_a_signature_by_one_key_does_not_verify_for_another_did():
    one, other = HolderKey(b"\x01" * 32), HolderKey(b"\x02" * 32)
    signature = one.sign(b"message")

    verify(one.did, b"message", signature)
    with pytest.raises(InvalidSignature):
        verify(other.did, b"message", signature)
    with pytest.raises(InvalidSignature):
        verify(one.did, b"messagE", signature)


def _did_with_codec(codec: bytes, key: bytes) -> str:
    number = int.from_bytes(codec + key, "big")
    text = ""
    while number:
        number, rest = divmod(number, 58)
        text = BASE58[rest] + text
    return "did:key:z" + text


VALID = HolderKey(b"\x03" * 32).did
MALFORMED_DIDS = [
    "",
    "did:key:",
    "did:key:z",
    "did:web:gemeente.example",
    "did:key:" + VALID[len("did:key:z"):],  # multibase prefix missing
    VALID[:-1],  # one character short: 33 bytes
    VALID + "a",  # one character more
    VALID[:20] + "0OIl" + VALID[24:],  # not base58btc
    VALID + "1" * 60,  # too long
    _did_with_codec(b"\xec\x01", bytes(32)),  # an X25519 key, not Ed25519
    " " + VALID,
    VALID.upper(),
    None,
    42,
    [VALID],
]


@pytest.mark.parametrize("did", MALFORMED_DIDS, ids=repr)
def test_a_malformed_did_is_an_invalid_signature(did):
    signature = HolderKey(b"\x03" * 32).sign(b"message")

    with pytest.raises(InvalidSignature):
        public_key_from_did(did)
    with pytest.raises(InvalidSignature):
        verify(did, b"message", signature)


@pytest.mark.parametrize("signature", ["", "!!!", "é", "A" * 86, "A" * 300])
def test_a_malformed_signature_is_an_invalid_signature(signature):
    with pytest.raises(InvalidSignature):
        verify(VALID, b"message", signature)
