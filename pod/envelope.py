"""Envelope encryption of one resource: its own data key, wrapped by the pod's KEK.

A sealed resource is ``MAGIC | wrapped data key | sealed content``. The associated
data of both the wrap and the content names the pod, the resource and its version,
so a file moved onto another name, another version or another pod fails to open.
Each write draws a fresh data key. The pod's KEK never encrypts content itself, so a
passphrase change re-wraps one key and no data (NIST SP 800-57 part 1, 6.2.2).

The state file adds its generation in the clear before the envelope; the generation
is also in the associated data, so it can be read before decryption but not changed.
"""

from __future__ import annotations

from . import crypto
from .errors import DecryptionFailed

MAGIC = b"VGE1"
STATE_MAGIC = b"VGS1"
_WRAPPED = crypto.KEY_BYTES + crypto.SEALED_OVERHEAD


def associated(did: str, *parts: object) -> bytes:
    return "|".join(["vg-pod", did, *map(str, parts)]).encode("utf-8")


def seal_resource(kek: bytes, ad: bytes, plaintext: bytes) -> bytes:
    dek = crypto.random_key()
    wrapped = crypto.seal(kek, dek, ad + b"|dek")
    return MAGIC + wrapped + crypto.seal(dek, plaintext, ad + b"|data")


def open_resource(kek: bytes, ad: bytes, blob: bytes) -> bytes:
    if blob[:4] != MAGIC or len(blob) < 4 + _WRAPPED:
        raise DecryptionFailed()
    dek = crypto.open_sealed(kek, blob[4:4 + _WRAPPED], ad + b"|dek")
    return crypto.open_sealed(dek, blob[4 + _WRAPPED:], ad + b"|data")


def wrap_key(kek: bytes, ad: bytes, dek: bytes) -> bytes:
    return crypto.seal(kek, dek, ad + b"|dek")


def unwrap_key(kek: bytes, ad: bytes, wrapped: bytes) -> bytes:
    return crypto.open_sealed(kek, wrapped, ad + b"|dek")


def seal_state(kek: bytes, did: str, generation: int, plaintext: bytes) -> bytes:
    header = STATE_MAGIC + generation.to_bytes(8, "big")
    return header + seal_resource(kek, associated(did, "state", generation), plaintext)


def state_generation(blob: bytes) -> int:
    """The generation a state file claims; only ``open_state`` proves it."""
    if blob[:4] != STATE_MAGIC or len(blob) < 12:
        raise DecryptionFailed()
    return int.from_bytes(blob[4:12], "big")


def open_state(kek: bytes, did: str, blob: bytes) -> tuple[int, bytes]:
    generation = state_generation(blob)
    return generation, open_resource(kek, associated(did, "state", generation), blob[12:])
