"""The pod's raw cryptography, kept in one small corner.

- Key derivation: Argon2id (libsodium ``crypto_pwhash``); its cost is stored with each
  pod so it can be raised later. libsodium's INTERACTIVE level is the floor.
- Key combination: keyed BLAKE2b joins the passphrase key with the server-held shard
  of the pod, so that destroying the shard destroys every way into the pod.
- Authenticated encryption: XChaCha20-Poly1305 (IETF) with a random 24-byte nonce and
  associated data that binds each ciphertext to its pod, resource and version.
- Chunks of a binary: XChaCha20-Poly1305 with a nonce made of a random per-file prefix
  and the chunk index, and associated data that names the index and whether the chunk
  is the last one, so a reordered, dropped or truncated chunk fails to decrypt and any
  chunk can be read on its own (HTTP range requests).

Every decryption failure is the same opaque ``DecryptionFailed``.

Hashing and sealing call the primitives directly: BLAKE2b through the standard
library (the same function, and the same bytes, as libsodium's), and the AEAD
through libsodium itself (PyNaCl's cffi module) with PyNaCl's framing (nonce, then
ciphertext), the nonce drawn into the output buffer. A read of the Workcontext
hashes and opens several small records, a write seals and opens several more;
PyNaCl's wrappers check their arguments in Python, which doubled the cost of
hashing a 3.7 KB record (31 against 16 µs, on a loaded machine), and formatted
their error messages on every call of the AEAD. The lengths libsodium reads
without a length (key and nonce) are checked here before every call.
"""

from __future__ import annotations

import hashlib

import nacl.bindings
import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils
from nacl._sodium import ffi as _ffi
from nacl._sodium import lib as _lib

from .errors import DecryptionFailed

KEY_BYTES = 32
SALT_BYTES = nacl.pwhash.argon2id.SALTBYTES
MIN_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
MIN_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE
MAX_OPSLIMIT = nacl.pwhash.argon2id.OPSLIMIT_SENSITIVE
MAX_MEMLIMIT = nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE
MODERATE = (nacl.pwhash.argon2id.OPSLIMIT_MODERATE, nacl.pwhash.argon2id.MEMLIMIT_MODERATE)
INTERACTIVE = (MIN_OPSLIMIT, MIN_MEMLIMIT)
SEALED_OVERHEAD = nacl.secret.Aead.NONCE_SIZE + nacl.secret.Aead.MACBYTES
_NONCE_BYTES = nacl.secret.Aead.NONCE_SIZE
CHUNK_PREFIX_BYTES = 16
CHUNK_OVERHEAD = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES


def random_key() -> bytes:
    return nacl.utils.random(KEY_BYTES)


def random_salt() -> bytes:
    return nacl.utils.random(SALT_BYTES)


def random_chunk_prefix() -> bytes:
    return nacl.utils.random(CHUNK_PREFIX_BYTES)


def check_cost(opslimit: int, memlimit: int) -> None:
    """Refuse a cost below libsodium's interactive level or above its sensitive one
    (the upper bound keeps a stored parameter from turning unlock into a DoS)."""
    if not (MIN_OPSLIMIT <= opslimit <= MAX_OPSLIMIT):
        raise ValueError("Argon2id opslimit is outside the allowed range")
    if not (MIN_MEMLIMIT <= memlimit <= MAX_MEMLIMIT):
        raise ValueError("Argon2id memlimit is outside the allowed range")


def derive_key(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    """Argon2id; refuses a cost outside the allowed range."""
    check_cost(opslimit, memlimit)
    return nacl.pwhash.argon2id.kdf(
        KEY_BYTES, passphrase.encode("utf-8"), salt, opslimit=opslimit, memlimit=memlimit
    )


def combine(passkey: bytes, shard: bytes) -> bytes:
    """The unlock key: both halves are needed, neither alone says anything."""
    return hashlib.blake2b(passkey, digest_size=KEY_BYTES, key=shard,
                           person=b"vg-pod-unlock").digest()


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=32).hexdigest()


def seal(key: bytes, plaintext: bytes, associated: bytes) -> bytes:
    """``nonce | ciphertext`` of XChaCha20-Poly1305 under ``key`` (32 bytes)."""
    _check_key(key)
    if type(plaintext) is not bytes or type(associated) is not bytes:
        raise TypeError("plaintext and associated data must be bytes")
    out = _new_buffer("unsigned char[]", _NONCE_BYTES + len(plaintext) + _MAC_BYTES)
    _lib.randombytes(out, _NONCE_BYTES)
    written = _ffi.new("unsigned long long *")
    if _lib.crypto_aead_xchacha20poly1305_ietf_encrypt(
            out + _NONCE_BYTES, written, plaintext, len(plaintext), associated,
            len(associated), _ffi.NULL, out, key) != 0:
        raise nacl.exceptions.CryptoError("encryption failed")
    return _ffi.buffer(out, _NONCE_BYTES + written[0])[:]


def open_sealed(key: bytes, ciphertext: bytes, associated: bytes) -> bytes:
    """The plaintext of ``seal``'s output; DecryptionFailed for anything else."""
    if (type(ciphertext) is not bytes or type(associated) is not bytes
            or type(key) is not bytes or len(key) != KEY_BYTES
            or len(ciphertext) < SEALED_OVERHEAD):
        raise DecryptionFailed()
    length = len(ciphertext) - SEALED_OVERHEAD
    out = _new_buffer("unsigned char[]", max(length, 1))
    written = _ffi.new("unsigned long long *")
    if _lib.crypto_aead_xchacha20poly1305_ietf_decrypt(
            out, written, _ffi.NULL, _ffi.from_buffer(ciphertext) + _NONCE_BYTES,
            len(ciphertext) - _NONCE_BYTES, associated, len(associated), ciphertext,
            key) != 0:
        raise DecryptionFailed()
    return _ffi.buffer(out, written[0])[:]


def _check_key(key: bytes) -> None:
    """libsodium reads exactly KEY_BYTES from the key: anything else is refused
    before it is called."""
    if type(key) is not bytes or len(key) != KEY_BYTES:
        raise TypeError(f"a key must be {KEY_BYTES} bytes")


# Buffers for libsodium's output, which it writes whole before they are read: not
# cleared first.
_new_buffer = _ffi.new_allocator(should_clear_after_alloc=False)
_MAC_BYTES = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES


def _chunk_nonce(prefix: bytes, index: int) -> bytes:
    return prefix + index.to_bytes(8, "big")


def _chunk_ad(associated: bytes, index: int, final: bool) -> bytes:
    return associated + b"|" + index.to_bytes(8, "big") + (b"F" if final else b"C")


def seal_chunk(key: bytes, prefix: bytes, index: int, final: bool, chunk: bytes,
               associated: bytes) -> bytes:
    return nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        chunk, _chunk_ad(associated, index, final), _chunk_nonce(prefix, index), key)


def open_chunk(key: bytes, prefix: bytes, index: int, final: bool, sealed: bytes,
               associated: bytes) -> bytes:
    try:
        return nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            sealed, _chunk_ad(associated, index, final), _chunk_nonce(prefix, index),
            key)
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise DecryptionFailed() from exc
