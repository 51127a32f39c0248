"""The pod's raw cryptography, kept in one small corner.

- Key derivation: Argon2id (libsodium ``crypto_pwhash``); its cost is stored with each
  pod so it can be raised later. libsodium's INTERACTIVE level is the floor.
- Authenticated encryption: XChaCha20-Poly1305 (IETF) with a random 24-byte nonce and
  associated data that binds each ciphertext to its pod, resource and version, so a
  version file swapped for another fails to decrypt. The state file's associated data
  has no counter yet: restoring an older copy of it goes undetected until the pod
  keeps a monotonic version outside the file.

Every decryption failure is the same opaque ``DecryptionFailed``.
"""

from __future__ import annotations

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from .errors import DecryptionFailed

KEY_BYTES = 32
SALT_BYTES = nacl.pwhash.argon2id.SALTBYTES
MIN_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
MIN_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE
MODERATE = (nacl.pwhash.argon2id.OPSLIMIT_MODERATE, nacl.pwhash.argon2id.MEMLIMIT_MODERATE)
INTERACTIVE = (MIN_OPSLIMIT, MIN_MEMLIMIT)


def random_key() -> bytes:
    return nacl.utils.random(KEY_BYTES)


def random_salt() -> bytes:
    return nacl.utils.random(SALT_BYTES)


def derive_key(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    """Argon2id; refuses a cost below libsodium's interactive level."""
    if opslimit < MIN_OPSLIMIT or memlimit < MIN_MEMLIMIT:
        raise ValueError("Argon2id cost below the interactive level is not allowed")
    return nacl.pwhash.argon2id.kdf(
        KEY_BYTES, passphrase.encode("utf-8"), salt, opslimit=opslimit, memlimit=memlimit
    )


def seal(key: bytes, plaintext: bytes, associated: bytes) -> bytes:
    return bytes(nacl.secret.Aead(key).encrypt(plaintext, aad=associated))


def open_sealed(key: bytes, ciphertext: bytes, associated: bytes) -> bytes:
    try:
        return nacl.secret.Aead(key).decrypt(ciphertext, aad=associated)
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise DecryptionFailed() from exc
