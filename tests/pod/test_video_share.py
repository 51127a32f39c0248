"""The pod's copy of its intro video for the registry: sealed to the registry's key
under a fresh data key, chunk by chunk, and named by an id only the pod can make."""

from __future__ import annotations

import nacl.public

from consent.video_share import CHUNK, SHARE_ID, open_chunk, read_offer
from pod.binaries import BinaryWriter
from pod.video_share import INTRO_VIDEO, intro_video, share_copy, share_id
from tests.factories import NOW

VIDEO = bytes(range(256)) * 520  # 130 KiB: three chunks, the last a short one


def stored(pod, video=VIDEO, media_type="video/webm"):
    writer = BinaryWriter(pod, INTRO_VIDEO, media_type)
    writer.write(video)
    return writer.commit(NOW)


def test_the_copy_opens_with_the_registrys_key_and_nothing_else(pod):
    info = stored(pod)
    registry = nacl.public.PrivateKey.generate()
    share = share_id(pod, "urn:uuid:grant", info)

    offer, chunks = share_copy(pod, info, "urn:uuid:grant", share,
                               bytes(registry.public_key), NOW)

    found = read_offer(offer)
    key = nacl.public.SealedBox(registry).decrypt(found.sealed_key)
    sealed = list(chunks)
    plain = b"".join(open_chunk(key, found.prefix, share, n, n == len(sealed) - 1, c)
                     for n, c in enumerate(sealed))
    assert plain == VIDEO and len(sealed) == 3
    assert all(len(c) <= CHUNK + 16 for c in sealed)
    assert found.holder == pod.did and found.size == len(VIDEO)
    assert found.media_type == "video/webm" and found.grant_id == "urn:uuid:grant"


def test_the_share_id_is_stable_per_grant_and_video_and_names_neither(pod, store):
    info = stored(pod)
    first = share_id(pod, "urn:uuid:a", info)

    assert SHARE_ID.match(first)
    assert share_id(pod, "urn:uuid:a", info) == first
    assert share_id(pod, "urn:uuid:b", info) != first
    assert share_id(pod, "urn:uuid:a", stored(pod)) != first  # a new upload
    assert store.pod_id(pod.did) != first and first not in pod.did


def test_only_a_stored_video_of_a_served_type_is_shared(pod):
    assert intro_video(pod) is None
    stored(pod, media_type="application/pdf")
    assert intro_video(pod) is None
    stored(pod)
    assert intro_video(pod).media_type == "video/webm"
