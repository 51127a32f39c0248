"""The pod's primitives give the bytes every stored pod was made with: digests and
unlock keys are known answers, and sealed data opens with libsodium's AEAD as
PyNaCl frames it (nonce, then ciphertext), in both directions."""

from __future__ import annotations

import nacl.secret
import pytest

from pod import crypto
from pod.errors import DecryptionFailed

KEY = bytes(range(32))


@pytest.mark.parametrize("data, expected", [
    # BLAKE2b with a 32-byte digest (RFC 7693), as libsodium computes it.
    (b"", "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"),
    (b"abc", "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"),
])
def test_a_digest_is_blake2b_256_in_hex(data, expected):
    assert crypto.digest(data) == expected


def test_the_unlock_key_is_the_keyed_and_personalised_blake2b_of_the_passkey():
    # Computed by libsodium's crypto_generichash_blake2b_salt_personal, with which
    # every pod's keys were wrapped: a different answer would open no pod.
    unlock = crypto.combine(KEY, bytes(range(32, 64)))

    assert unlock.hex() == (
        "ea0fde77d4c475e0d54019b9ff8459ae6b98d01ff1903d62f5ddf9df8a58f224")


def test_what_the_pod_seals_opens_with_libsodiums_aead_and_back():
    sealed = crypto.seal(KEY, b"workcontext", b"vg-pod|ad")
    framed = bytes(nacl.secret.Aead(KEY).encrypt(b"state", aad=b"vg-pod|ad"))

    assert nacl.secret.Aead(KEY).decrypt(sealed, aad=b"vg-pod|ad") == b"workcontext"
    assert crypto.open_sealed(KEY, framed, b"vg-pod|ad") == b"state"
    assert len(sealed) == len(b"workcontext") + crypto.SEALED_OVERHEAD


@pytest.mark.parametrize("change", [
    lambda b: b[:-1] + bytes([b[-1] ^ 1]),   # a flipped bit
    lambda b: b[:10],                         # cut inside the nonce
    lambda b: b[:30],                         # cut before the tag ends
    lambda b: b"",
])
def test_a_changed_or_cut_ciphertext_is_one_opaque_failure(change):
    sealed = crypto.seal(KEY, b"workcontext", b"ad")

    with pytest.raises(DecryptionFailed):
        crypto.open_sealed(KEY, change(sealed), b"ad")


def test_other_associated_data_or_another_key_fails_to_open():
    sealed = crypto.seal(KEY, b"workcontext", b"ad")

    with pytest.raises(DecryptionFailed):
        crypto.open_sealed(KEY, sealed, b"other")
    with pytest.raises(DecryptionFailed):
        crypto.open_sealed(bytes(32), sealed, b"ad")


@pytest.mark.parametrize("key", [bytes(31), bytes(33), b"", bytearray(32)])
def test_a_key_that_is_not_32_bytes_is_refused_before_libsodium_reads_it(key):
    with pytest.raises(TypeError):
        crypto.seal(key, b"workcontext", b"ad")
    with pytest.raises(DecryptionFailed):
        crypto.open_sealed(key, crypto.seal(KEY, b"workcontext", b"ad"), b"ad")


def test_every_seal_draws_a_fresh_nonce():
    assert len({crypto.seal(KEY, b"", b"ad")[:24] for _ in range(100)}) == 100
