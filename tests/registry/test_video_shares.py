"""The registry takes a copy of an intro video only as the holder's signed disclosure
names it, only whole and opening, and keeps ciphertext only."""

from __future__ import annotations

import nacl.public
import nacl.utils
import pytest
from sqlalchemy import select

from consent import InvalidVideoShare, ProjectionMismatch
from consent.video_share import CHUNK, make_offer, seal_chunk, share_address
from registry.tables_video import VideoShare
from tests.factories import (
    NOW,
    disclosure,
    full_workcontext,
    holder_key,
    registry_snapshot,
    signed_grant,
)

HOLDER = holder_key(1)
OTHER = holder_key(2)
SHARE = "ab" * 16
VIDEO = bytes(range(256)) * 600  # 150 KiB: three chunks


def published(system, key=HOLDER, share=SHARE, fields=("skills", "intro_video"),
              sequence=1):
    """A disclosure of ``key`` under a new grant naming ``share``; the grant."""
    document = full_workcontext(key.did)
    document["introVideo"]["contentUrl"] = share_address("https://vg.example/", share)
    grant = signed_grant(key, list(fields))
    system.registry.receive_disclosure(disclosure(key, grant, sequence, document),
                                      NOW)
    return grant


def copy(system, grant, key=HOLDER, share=SHARE, video=VIDEO, size=None):
    """An offer signed by ``key`` and the sealed chunks of ``video``."""
    data_key = nacl.utils.random(32)
    prefix = nacl.utils.random(16)
    recipient = nacl.public.PublicKey(system.registry.video_share_key())
    sealed = nacl.public.SealedBox(recipient).encrypt(data_key)
    offer = make_offer(key, grant.id, share, "video/mp4", size or len(video),
                       bytes(sealed), prefix, NOW)
    pieces = [video[i:i + CHUNK] for i in range(0, len(video), CHUNK)]
    chunks = [seal_chunk(data_key, prefix, share, n, n == len(pieces) - 1, piece)
              for n, piece in enumerate(pieces)]
    return offer, chunks


def copies(system) -> list[str]:
    folder = system.settings.data_dir / "video-shares"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_copy_the_disclosure_names_is_kept_as_ciphertext_and_reads_by_range(system):
    grant = published(system)
    offer, chunks = copy(system, grant)

    system.registry.receive_video_share(offer, iter(chunks), NOW)

    shares = system.registry.videos.shares
    stored = shares.stored(SHARE)
    assert b"".join(shares.read_range(stored, 0, len(VIDEO) - 1)) == VIDEO
    assert b"".join(shares.read_range(stored, CHUNK - 2, CHUNK + 1)) == VIDEO[
        CHUNK - 2:CHUNK + 2]
    on_disk = (system.settings.data_dir / "video-shares" / f"{SHARE}.bin").read_bytes()
    assert VIDEO[:4096] not in on_disk


@pytest.mark.parametrize("change", ["swap", "drop", "truncate", "extra", "flip"])
def test_a_copy_whose_chunks_do_not_open_in_order_is_refused_and_leaves_nothing(
        system, change):
    grant = published(system)
    offer, chunks = copy(system, grant)
    chunks = {"swap": lambda c: [c[1], c[0], c[2]],
              "drop": lambda c: c[:1] + c[2:],
              "truncate": lambda c: c[:2] + [c[2][:-1]],
              "extra": lambda c: c + [b"x"],
              "flip": lambda c: c[:1] + [bytes([c[1][0] ^ 1]) + c[1][1:]] + c[2:],
              }[change](chunks)
    before = registry_snapshot(system.registry.engine)

    with pytest.raises(InvalidVideoShare):
        system.registry.receive_video_share(offer, iter(chunks), NOW)

    assert registry_snapshot(system.registry.engine) == before and copies(system) == []


def test_a_copy_no_disclosure_names_is_refused(system):
    grant = published(system, fields=("skills",))  # no intro_video in the grant
    offer, chunks = copy(system, grant)

    with pytest.raises(InvalidVideoShare):
        system.registry.receive_video_share(offer, iter(chunks), NOW)
    assert copies(system) == []


def test_a_copy_offered_for_another_share_or_by_another_holder_is_refused(system):
    grant = published(system)
    other_share, _ = copy(system, grant, share="cd" * 16)
    forged, _ = copy(system, grant, key=OTHER)
    _, chunks = copy(system, grant)

    for offer in (other_share, forged):
        with pytest.raises(InvalidVideoShare):
            system.registry.receive_video_share(offer, iter(chunks), NOW)
    assert copies(system) == []


def test_a_tampered_offer_is_refused(system):
    grant = published(system)
    offer, chunks = copy(system, grant)

    for tampered in ({**offer, "size": offer["size"] + 1},
                     {**offer, "mediaType": "text/html"},
                     {**offer, "unexpected": 1},
                     {k: v for k, v in offer.items() if k != "proof"}):
        with pytest.raises(InvalidVideoShare):
            system.registry.receive_video_share(tampered, iter(chunks), NOW)
    assert copies(system) == []


def test_an_offer_over_the_size_ceiling_is_refused_before_any_byte(system):
    grant = published(system)
    offer, _ = copy(system, grant, size=4 * 1024 ** 3 + 1)

    def never():
        raise AssertionError("no chunk may be read")
        yield b""

    with pytest.raises(InvalidVideoShare):
        system.registry.receive_video_share(offer, never(), NOW)


def test_the_same_copy_offered_twice_keeps_the_first(system):
    grant = published(system)
    first, chunks = copy(system, grant)
    system.registry.receive_video_share(first, iter(chunks), NOW)
    kept = system.registry.videos.shares.stored(SHARE)

    again, chunks = copy(system, grant)
    system.registry.receive_video_share(again, iter(chunks), NOW)

    assert system.registry.videos.shares.stored(SHARE) == kept
    assert copies(system) == [f"{SHARE}.bin"]


def test_sweeping_removes_only_copies_without_a_row(system):
    grant = published(system)
    offer, chunks = copy(system, grant)
    system.registry.receive_video_share(offer, iter(chunks), NOW)
    stray = system.settings.data_dir / "video-shares" / f"{'ef' * 16}.bin"
    stray.write_bytes(b"left by a crash")

    removed = system.registry.sweep_videos()

    assert removed == 1 and copies(system) == [f"{SHARE}.bin"]
    with system.registry.engine.connect() as conn:
        assert len(conn.execute(select(VideoShare.__table__)).all()) == 1


def test_a_disclosure_naming_another_holders_copy_is_refused_and_changes_nothing(
        system):
    grant = published(system)
    offer, chunks = copy(system, grant)
    system.registry.receive_video_share(offer, iter(chunks), NOW)
    before = registry_snapshot(system.registry.engine)

    with pytest.raises(ProjectionMismatch, match="introVideo.contentUrl"):
        published(system, key=OTHER)  # names the first holder's share

    assert registry_snapshot(system.registry.engine) == before


def test_a_disclosure_naming_its_holders_copy_under_another_grant_is_refused(system):
    grant = published(system)
    offer, chunks = copy(system, grant)
    system.registry.receive_video_share(offer, iter(chunks), NOW)

    with pytest.raises(ProjectionMismatch, match="introVideo.contentUrl"):
        published(system, sequence=2)  # a new grant of the holder, the same copy


def test_bulk_ingest_refuses_a_disclosure_naming_another_holders_copy(system):
    import json

    grant = published(system)
    offer, chunks = copy(system, grant)
    system.registry.receive_video_share(offer, iter(chunks), NOW)
    document = full_workcontext(OTHER.did)
    document["introVideo"]["contentUrl"] = share_address("https://vg.example/", SHARE)
    foreign = disclosure(OTHER, signed_grant(OTHER, ["skills", "intro_video"]), 1,
                         document)

    result = system.registry.bulk.disclosures([json.dumps(foreign)], NOW)

    assert result.refused == [(0, "projection-mismatch")]


def test_a_disclosure_naming_another_holders_copy_not_received_yet_is_refused(system):
    """The copy follows its disclosure; until it arrives (or when it never does)
    the share is already taken by the disclosure that named it first."""
    published(system)  # the copy is not sent
    before = registry_snapshot(system.registry.engine)

    with pytest.raises(ProjectionMismatch, match="introVideo.contentUrl"):
        published(system, key=OTHER)

    assert registry_snapshot(system.registry.engine) == before


def test_a_copy_not_received_yet_is_its_own_grants_to_name_again(system):
    grant = published(system)
    document = full_workcontext(HOLDER.did)
    document["introVideo"]["contentUrl"] = share_address("https://vg.example/", SHARE)

    system.registry.receive_disclosure(disclosure(HOLDER, grant, 2, document), NOW)
    with pytest.raises(ProjectionMismatch, match="introVideo.contentUrl"):
        published(system, sequence=3)  # another grant of the holder

    offer, chunks = copy(system, grant)
    assert system.registry.receive_video_share(offer, iter(chunks), NOW) == SHARE


def test_a_share_named_by_a_grant_that_no_longer_names_it_is_free(system):
    grant = published(system)
    document = full_workcontext(HOLDER.did)  # the grant now names another address

    system.registry.receive_disclosure(disclosure(HOLDER, grant, 2, document), NOW)

    published(system, key=OTHER)  # accepted: nothing names the share any more


def test_bulk_ingest_refuses_a_disclosure_naming_a_copy_not_received_yet(system):
    import json

    published(system)
    document = full_workcontext(OTHER.did)
    document["introVideo"]["contentUrl"] = share_address("https://vg.example/", SHARE)
    foreign = disclosure(OTHER, signed_grant(OTHER, ["skills", "intro_video"]), 1,
                         document)

    result = system.registry.bulk.disclosures([json.dumps(foreign)], NOW)

    assert result.refused == [(0, "projection-mismatch")]


def test_bulk_ingest_refuses_the_second_of_a_batch_naming_one_share(system):
    import json

    documents = []
    for key in (HOLDER, OTHER):
        document = full_workcontext(key.did)
        document["introVideo"]["contentUrl"] = share_address("https://vg.example/",
                                                             SHARE)
        documents.append(json.dumps(disclosure(
            key, signed_grant(key, ["skills", "intro_video"]), 1, document)))

    result = system.registry.bulk.disclosures(documents, NOW)

    assert result.accepted == 1
    assert result.refused == [(1, "projection-mismatch")]
