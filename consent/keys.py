"""Ed25519 identities as ``did:key`` and the signatures made with them.

This is the one place in ``consent`` that touches raw signing primitives. A
``did:key`` for Ed25519 is ``did:key:z`` + base58btc(0xed 0x01 + public key)
(W3C did:key method, multicodec ``ed25519-pub``).
"""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache

import nacl.exceptions
import nacl.signing

from .errors import InvalidSignature

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_VALUE = {char: value for value, char in enumerate(_B58)}
_ED25519_PUB = b"\xed\x01"
DID_KEY_PREFIX = "did:key:z"


def _b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = _B58[rest] + out
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + out


def _b58decode(text: str) -> bytes:
    number = 0
    try:
        for char in text:
            number = number * 58 + _B58_VALUE[char]
    except KeyError:
        raise ValueError("not base58btc") from None
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + body


def did_from_public_key(public_key: bytes) -> str:
    return DID_KEY_PREFIX + _b58encode(_ED25519_PUB + public_key)


def public_key_from_did(did: str) -> bytes:
    """The raw Ed25519 key in a did:key; any malformed did is an invalid signature."""
    if not isinstance(did, str) or not did.startswith(DID_KEY_PREFIX) or len(did) > 80:
        raise InvalidSignature()
    return _decoded_key(did)


# A disclosure names its holder twice (its own proof and its grant's), and a holder's
# documents arrive together: the last few thousand decodings are kept.
@lru_cache(maxsize=4096)
def _decoded_key(did: str) -> bytes:
    try:
        raw = _b58decode(did[len(DID_KEY_PREFIX):])
    except ValueError as exc:
        raise InvalidSignature() from exc
    if len(raw) != 34 or not raw.startswith(_ED25519_PUB):
        raise InvalidSignature()
    return raw[2:]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Unpadded base64url in its one canonical spelling, else ValueError. A lenient
    decoder reads ``T``, ``T=``, ``T\n``, ``+`` for ``-`` and other spare bits as the
    same bytes: a text compared or hashed as a text (a signed-out session, a seen
    signature) must not have a second spelling that opens the same thing."""
    # The standard alphabet's two characters and padding would pass the strict
    # decoder below once the URL-safe ones are translated: refused first. The
    # strict decoder refuses every other character outside the alphabet (a
    # pattern match per character cost half of this function).
    if not isinstance(text, str) or "+" in text or "/" in text or "=" in text:
        raise ValueError("not unpadded base64url")
    # Its length and the last character's spare bits (RFC 4648 section 3.5) are
    # what make a spelling canonical: checked here instead of encoding the
    # result again, which cost as much as the decoding.
    rest = len(text) % 4
    if rest == 1 or (rest and _VALUE.get(text[-1], 0) & _SPARE_BITS[rest]):
        raise ValueError("not the canonical base64url of its bytes")
    try:
        return binascii.a2b_base64(
            text.encode("ascii").translate(_STANDARD) + _PAD[rest], strict_mode=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise ValueError("not unpadded base64url") from exc


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_VALUE = {char: value for value, char in enumerate(_ALPHABET)}
# By the text's length modulo 4: the low bits of its last character that encode no
# byte (two characters hold one byte and four spare bits, three hold two and two),
# and the padding the standard decoder wants.
_SPARE_BITS = (0, 0, 0b1111, 0b11)
_PAD = (b"", b"", b"==", b"=")
_STANDARD = bytes.maketrans(b"-_", b"+/")


class HolderKey:
    """A holder's signing key. Only the pod holds one, and only while unlocked."""

    def __init__(self, seed: bytes):
        self._key = nacl.signing.SigningKey(seed)
        self.did = did_from_public_key(bytes(self._key.verify_key))

    def sign(self, message: bytes) -> str:
        return b64url(self._key.sign(message).signature)


def verify(did: str, message: bytes, signature: str) -> None:
    """Raise InvalidSignature unless ``signature`` by ``did`` covers ``message``."""
    key = nacl.signing.VerifyKey(public_key_from_did(did))
    try:
        key.verify(message, b64url_decode(signature))
    except (nacl.exceptions.BadSignatureError, ValueError, TypeError) as exc:
        raise InvalidSignature() from exc
