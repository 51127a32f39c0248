"""A message sealed to the holder's did:key is readable only with the unlocked pod;
on disk it reveals neither its content nor its sender; a delivered message removed or
replaced on disk is detected, and one nobody delivered is never shown."""

from __future__ import annotations

import os

import pytest

from pod import DecryptionFailed, InboxFull, InboxQuotaReached, MessageNotFound
from pod import UnlockedPod
from pod import inbox
from pod.store import PodStore
from tests.factories import NOW, PASSPHRASE, pod_store

RATING = b'{"rating": 5, "team": "Energieloket"}'


@pytest.fixture
def pod(store: PodStore) -> UnlockedPod:
    return store.create(PASSPHRASE, NOW)


def test_a_sealed_message_reads_back_with_its_sender(store, pod):
    message_id = inbox.deliver(store, pod.did, inbox.seal_to(pod.did, RATING),
                               "GM0344", NOW)

    [message] = inbox.messages(pod)

    assert (message.id, message.sender, message.body) == (message_id, "GM0344", RATING)
    assert message.received == "2026-12-04T12:00:00Z"


def test_a_message_file_shows_neither_content_nor_sender(store, pod):
    inbox.deliver(store, pod.did, inbox.seal_to(pod.did, RATING), "GM0344", NOW)

    for path in (pod.directory / "inbox").iterdir():
        content = path.read_bytes()
        assert b"rating" not in content and b"GM0344" not in content


def test_a_message_moved_into_another_pod_is_not_shown_there(store, pod):
    other = store.create(PASSPHRASE, NOW)
    message_id = inbox.deliver(store, pod.did, inbox.seal_to(pod.did, RATING),
                               "GM0344", NOW)
    (other.directory / "inbox").mkdir()
    (pod.directory / "inbox" / f"{message_id}.msg").rename(
        other.directory / "inbox" / f"{message_id}.msg")

    assert inbox.messages(other) == []
    with pytest.raises(MessageNotFound):
        inbox.read(other, message_id)
    with pytest.raises(DecryptionFailed):
        inbox.messages(pod)


def test_a_delivered_message_removed_on_disk_is_detected(store, pod):
    message_id = inbox.deliver(store, pod.did, inbox.seal_to(pod.did, RATING),
                               "GM0344", NOW)
    (pod.directory / "inbox" / f"{message_id}.msg").unlink()

    with pytest.raises(DecryptionFailed):
        inbox.messages(pod)


def test_a_delivered_message_replaced_on_disk_is_detected(store, pod):
    first = inbox.deliver(store, pod.did, inbox.seal_to(pod.did, RATING), "GM0344", NOW)
    second = inbox.deliver(store, pod.did, inbox.seal_to(pod.did, b"other"), "GM0344",
                           NOW)
    folder = pod.directory / "inbox"
    (folder / f"{first}.msg").write_bytes((folder / f"{second}.msg").read_bytes())

    with pytest.raises(DecryptionFailed):
        inbox.read(pod, first)


def test_a_message_nobody_delivered_is_never_shown_and_is_swept(store, pod):
    planted = "0000000001-00000000000000aa"
    (pod.directory / "inbox").mkdir()
    (pod.directory / "inbox" / f"{planted}.msg").write_bytes(
        inbox.seal_to(pod.did, b"plant"))

    assert inbox.messages(pod) == []
    with pytest.raises(MessageNotFound):
        inbox.read(pod, planted)
    inbox.deliver(store, pod.did, inbox.seal_to(pod.did, RATING), "GM0344", NOW)
    assert not (pod.directory / "inbox" / f"{planted}.msg").exists()
    assert [m.body for m in inbox.messages(pod)] == [RATING]


def test_erasure_removes_the_inbox_witness(store, pod):
    inbox.deliver(store, pod.did, inbox.seal_to(pod.did, RATING), "GM0344", NOW)

    store.erase(pod)

    assert list(store.keyring.directory.glob("*.inbox.json")) == []


def test_a_message_sealed_to_someone_else_is_listed_as_unreadable(store, tmp_path,
                                                                  pod):
    other = pod_store(tmp_path / "pods").create(PASSPHRASE, NOW)
    junk = inbox.deliver(store, pod.did, inbox.seal_to(other.did, RATING), "GM0344",
                         NOW)

    [message] = inbox.messages(pod)

    assert (message.id, message.readable, message.sender) == (junk, False, "GM0344")


def test_one_unreadable_message_does_not_hide_the_others_and_can_be_deleted(store,
                                                                            pod):
    first = inbox.deliver(store, pod.did, inbox.seal_to(pod.did, RATING), "GM0344",
                          NOW)
    garbage = inbox.deliver(store, pod.did, os.urandom(64), "GM0344", NOW)
    later = inbox.deliver(store, pod.did, inbox.seal_to(pod.did, RATING), "GM0344",
                          NOW)

    listed = {m.id: m for m in inbox.messages(pod)}
    inbox.delete(pod, garbage)

    assert listed[first].body == RATING and listed[later].body == RATING
    assert not listed[garbage].readable
    assert {m.id for m in inbox.messages(pod)} == {first, later}


def test_one_origin_can_not_fill_the_inbox(store, pod, monkeypatch):
    monkeypatch.setattr(inbox, "MAX_PER_ORIGIN", 3)
    key = bytes(32)
    for _ in range(3):
        inbox.deliver(store, pod.did, inbox.seal_to(pod.did, RATING), "x", NOW,
                      origin=(key, "rater-1"))

    with pytest.raises(InboxQuotaReached):
        inbox.deliver(store, pod.did, inbox.seal_to(pod.did, RATING), "x", NOW,
                      origin=(key, "rater-1"))
    other = inbox.deliver(store, pod.did, inbox.seal_to(pod.did, RATING), "x", NOW,
                          origin=(key, "rater-2"))
    ids = [m.id for m in inbox.messages(pod)]
    assert len(ids) == 4 and other in ids
    assert all(len(i) <= 40 and "rater" not in i for i in ids)


def test_a_quota_is_far_below_the_inbox_cap():
    assert inbox.MAX_PER_ORIGIN * 20 <= inbox.MAX_MESSAGES

def test_a_deleted_message_is_gone(store, pod):
    message_id = inbox.deliver(store, pod.did, inbox.seal_to(pod.did, RATING),
                               "GM0344", NOW)

    inbox.delete(pod, message_id)

    assert inbox.messages(pod) == []
    assert list((pod.directory / "inbox").glob("*.msg")) == []
    with pytest.raises(MessageNotFound):
        inbox.read(pod, message_id)


@pytest.mark.parametrize("message_id", ["../state", "", "x" * 41, "A-1", "a/b"])
def test_a_message_id_outside_the_inbox_is_not_found(pod, message_id):
    with pytest.raises(MessageNotFound):
        inbox.read(pod, message_id)


def test_a_full_inbox_refuses_the_next_message(store, pod, monkeypatch):
    monkeypatch.setattr(inbox, "MAX_MESSAGES", 2)
    for _ in range(2):
        inbox.deliver(store, pod.did, inbox.seal_to(pod.did, RATING), "GM0344",
                      NOW)

    with pytest.raises(InboxFull):
        inbox.deliver(store, pod.did, inbox.seal_to(pod.did, RATING), "GM0344",
                      NOW)


@pytest.mark.parametrize("outer", [
    {"id": "ID", "sender": "x", "received": "t"},
    {"id": "ID", "sender": "x", "received": "t", "sealed": 5},
    {"id": "ID", "sender": 5, "received": "t", "sealed": ""}, ["ID"], "ID"])
def test_an_outer_layer_of_any_other_shape_reads_as_unreadable(store, pod, outer):
    import json

    from pod import crypto

    message_id = "0000000003-" + "cd" * 8
    text = json.dumps(outer).replace("ID", message_id).encode()
    blob = inbox.seal_to(pod.did, text)
    (pod.directory / "inbox").mkdir(exist_ok=True)
    (pod.directory / "inbox" / f"{message_id}.msg").write_bytes(blob)
    store.keyring.witness_message(store.pod_id(pod.did), message_id,
                                  crypto.digest(blob))

    [message] = inbox.messages(pod)

    assert message.id == message_id and not message.readable
