"""The pod's side of sharing its intro video with the registry under a grant.

The video stays in the pod, encrypted under a data key the passphrase KEK wraps
(binaries.py), which only the holder's session opens. For a grant that names
``intro_video`` the pod makes a copy: the plaintext is read one chunk at a time and
sealed again under a fresh data key, which is sealed to the registry's public key
(consent/video_share.py). Memory stays constant: one chunk of plaintext and one of
ciphertext at a time.

The share id names one video under one grant. It is a keyed hash (BLAKE2b, keyed
with the pod's KEK) of the grant id and the binary's file id: the same while
neither changes, so publishing the grant again does not copy the video again, and
new when the holder replaces the video or grants again. Without the KEK it can
not be linked to the pod, the holder or another share of the same video.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import nacl.public
import nacl.utils

from consent import HolderKey
from consent.video_share import (
    KEY_BYTES,
    MEDIA_TYPES,
    PREFIX_BYTES,
    make_offer,
    seal_chunk,
)

from .binaries import CHUNK, BinaryInfo, binaries, read_range
from .holder import UnlockedPod

INTRO_VIDEO = "introductievideo"  # the binary the Workcontext's introVideo names


def intro_video(pod: UnlockedPod) -> BinaryInfo | None:
    """The pod's intro video, if it holds one that can be shared (not empty, a
    video type the registry serves)."""
    found = next((b for b in binaries(pod) if b.name == INTRO_VIDEO), None)
    if found is None or found.size == 0 or found.media_type not in MEDIA_TYPES:
        return None
    return found


def share_id(pod: UnlockedPod, grant_id: str, video: BinaryInfo) -> str:
    kek = pod.key_material()[1]
    return hashlib.blake2b(f"{grant_id}|{video.file}".encode(),
                           digest_size=16, key=kek,
                           person=b"vg-video-share").hexdigest()


def share_copy(pod: UnlockedPod, video: BinaryInfo, grant_id: str, share: str,
               registry_key: bytes, now: datetime
               ) -> tuple[dict[str, Any], Iterator[bytes]]:
    """The signed offer and the chunks of a copy for the registry, whose X25519
    public key is ``registry_key``. The chunks are made as they are read."""
    key = nacl.utils.random(KEY_BYTES)
    prefix = nacl.utils.random(PREFIX_BYTES)
    sealed = nacl.public.SealedBox(nacl.public.PublicKey(registry_key)).encrypt(key)
    signer = HolderKey(pod.key_material()[0])
    offer = make_offer(signer, grant_id, share, video.media_type, video.size,
                       bytes(sealed), prefix, now)
    return offer, _sealed_chunks(pod, video, key, prefix, share)


def _sealed_chunks(pod: UnlockedPod, video: BinaryInfo, key: bytes, prefix: bytes,
                   share: str) -> Iterator[bytes]:
    """The pod's chunks and the copy's have the same size (64 KiB), so each one
    read is sealed again as it comes."""
    count = -(-video.size // CHUNK)
    for index, plain in enumerate(read_range(pod, video)):
        yield seal_chunk(key, prefix, share, index, index == count - 1, plain)
