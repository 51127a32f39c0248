"""The intro video a holder shares with the registry under a grant: its signed offer
and the chunked ciphertext that goes with it.

A grant that names ``intro_video`` lets organisations in its audience watch the
video, but only the holder's session opens the pod. So when such a grant is
published the pod makes a copy for the registry: the video encrypted in chunks
under a fresh data key, and that key sealed to the registry's X25519 public key
(a libsodium sealed box, RFC 7748 keys). The offer that carries the sealed key is
signed by the holder like every document that crosses from pod to registry, and
its share id is the one the signed disclosure names in ``introVideo.contentUrl``:
the registry takes a copy only for a disclosure that points at it.

A chunk is XChaCha20-Poly1305 (IETF) with a nonce of the copy's random prefix and
the chunk index; its associated data names the share, the index and whether it is
the last chunk, so a reordered, dropped or truncated chunk fails and any byte range
opens only the chunks it touches (HTTP range requests).

The share id is opaque (32 hexadecimal digits the pod derives with a key of its
own): the address it makes names neither the pod nor the holder.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import nacl.bindings
import nacl.exceptions

from .errors import ConsentError, InvalidVideoShare
from .signed import sign_document, verify_document
from .timefmt import format_time, parse_time

SHARE_TYPE = "VideoShare"
SHARE_ID = re.compile(r"^[0-9a-f]{32}\Z")
MEDIA_TYPES = frozenset({"video/mp4", "video/webm"})
CHUNK = 64 * 1024
KEY_BYTES = 32
PREFIX_BYTES = 16
CHUNK_OVERHEAD = nacl.bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES
SEALED_KEY_BYTES = KEY_BYTES + nacl.bindings.crypto_box_SEALBYTES
# A pod holds at most 4 GiB of files (pod/limits.py); no copy is larger.
MAX_SHARE_BYTES = 4 * 1024 ** 3
ROUTE = "api/v1/introductievideos/"
_MEMBERS = frozenset({"type", "holder", "grant", "share", "mediaType", "size",
                      "sealedKey", "prefix", "issued", "proof"})


@dataclass(frozen=True, slots=True)
class VideoOffer:
    holder: str
    grant_id: str
    share: str
    media_type: str
    size: int
    sealed_key: bytes
    prefix: bytes
    issued: datetime


def share_address(base: str, share: str) -> str:
    """The registry's address of a share: ``base`` ends in a slash."""
    return f"{base}{ROUTE}{share}"


def share_in(address: Any) -> str | None:
    """The share id an address made by ``share_address`` names, else None."""
    if not isinstance(address, str) or ROUTE not in address:
        return None
    share = address.rsplit("/", 1)[-1]
    return share if SHARE_ID.match(share) else None


def chunk_count(size: int) -> int:
    return max(1, -(-size // CHUNK))


def sealed_size(size: int) -> int:
    """Bytes of the ciphertext of a ``size``-byte video."""
    return size + chunk_count(size) * CHUNK_OVERHEAD


def make_offer(signer, grant_id: str, share: str, media_type: str, size: int,
               sealed_key: bytes, prefix: bytes, now: datetime) -> dict[str, Any]:
    """The holder's signed offer of one copy (``signer``: a consent.HolderKey)."""
    body = {"type": SHARE_TYPE, "holder": signer.did, "grant": grant_id,
            "share": share, "mediaType": media_type, "size": size,
            "sealedKey": base64.b64encode(sealed_key).decode("ascii"),
            "prefix": base64.b64encode(prefix).decode("ascii"),
            "issued": format_time(now)}
    return sign_document(body, signer)


def read_offer(document: Any) -> VideoOffer:
    """A verified offer; anything else is the one opaque InvalidVideoShare."""
    if (not isinstance(document, dict) or document.get("type") != SHARE_TYPE
            or not set(document) <= _MEMBERS):
        raise InvalidVideoShare()
    try:
        verify_document(document, document.get("holder"))
        size, share = document["size"], document["share"]
        offer = VideoOffer(
            document["holder"], _text(document["grant"]), _text(share),
            _text(document["mediaType"]), size,
            base64.b64decode(_text(document["sealedKey"]), validate=True),
            base64.b64decode(_text(document["prefix"]), validate=True),
            parse_time(document["issued"], "issued"))
    except (KeyError, ValueError, TypeError, ConsentError) as exc:
        raise InvalidVideoShare() from exc
    if (not SHARE_ID.match(offer.share) or offer.media_type not in MEDIA_TYPES
            or type(size) is not int or not 0 < size <= MAX_SHARE_BYTES
            or len(offer.sealed_key) != SEALED_KEY_BYTES
            or len(offer.prefix) != PREFIX_BYTES or len(offer.grant_id) > 200):
        raise InvalidVideoShare()
    return offer


def _text(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 200:
        raise ValueError("not a short text")
    return value


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + index.to_bytes(8, "big")


def _associated(share: str, index: int, final: bool) -> bytes:
    return (f"vg-video-share|{share}|".encode("ascii") + index.to_bytes(8, "big")
            + (b"F" if final else b"C"))


def seal_chunk(key: bytes, prefix: bytes, share: str, index: int, final: bool,
               chunk: bytes) -> bytes:
    return nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        chunk, _associated(share, index, final), _nonce(prefix, index), key)


def open_chunk(key: bytes, prefix: bytes, share: str, index: int, final: bool,
               sealed: bytes) -> bytes:
    try:
        return nacl.bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
            sealed, _associated(share, index, final), _nonce(prefix, index), key)
    except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
        raise InvalidVideoShare() from exc
