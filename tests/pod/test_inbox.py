"""A message sealed to the holder's did:key is readable only with the unlocked pod;
on disk it reveals neither its content nor its sender."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pod import InboxFull, InboxQuotaReached, MessageNotFound, UnlockedPod
from pod import inbox
from tests.factories import NOW, PASSPHRASE, pod_store

RATING = b'{"rating": 5, "team": "Energieloket"}'


@pytest.fixture
def pod(tmp_path: Path) -> UnlockedPod:
    return pod_store(tmp_path / "pods").create(PASSPHRASE, NOW)


def test_a_sealed_message_reads_back_with_its_sender(pod):
    message_id = inbox.deliver(pod.directory, pod.did, inbox.seal_to(pod.did, RATING),
                               "GM0344", NOW)

    [message] = inbox.messages(pod)

    assert (message.id, message.sender, message.body) == (message_id, "GM0344", RATING)
    assert message.received == "2026-12-04T12:00:00Z"


def test_a_message_file_shows_neither_content_nor_sender(pod):
    inbox.deliver(pod.directory, pod.did, inbox.seal_to(pod.did, RATING), "GM0344", NOW)

    for path in (pod.directory / "inbox").iterdir():
        content = path.read_bytes()
        assert b"rating" not in content and b"GM0344" not in content


def test_another_holder_can_not_open_the_message(tmp_path, pod):
    other = pod_store(tmp_path / "pods").create(PASSPHRASE, NOW)
    message_id = inbox.deliver(pod.directory, pod.did, inbox.seal_to(pod.did, RATING),
                               "GM0344", NOW)
    (other.directory / "inbox").mkdir()
    (pod.directory / "inbox" / f"{message_id}.msg").rename(
        other.directory / "inbox" / f"{message_id}.msg")

    message = inbox.read(other, message_id)

    assert not message.readable
    assert (message.sender, message.body) == (None, None)


def test_a_message_sealed_to_someone_else_is_listed_as_unreadable(tmp_path, pod):
    other = pod_store(tmp_path / "pods").create(PASSPHRASE, NOW)
    junk = inbox.deliver(pod.directory, pod.did, inbox.seal_to(other.did, RATING),
                         "GM0344", NOW)

    [message] = inbox.messages(pod)

    assert (message.id, message.readable, message.sender) == (junk, False, "GM0344")


def test_one_unreadable_message_does_not_hide_the_others_and_can_be_deleted(pod):
    first = inbox.deliver(pod.directory, pod.did, inbox.seal_to(pod.did, RATING),
                          "GM0344", NOW)
    planted = pod.directory / "inbox" / "0000000001-00000000000000aa.msg"
    planted.write_bytes(os.urandom(64))
    later = inbox.deliver(pod.directory, pod.did, inbox.seal_to(pod.did, RATING),
                          "GM0344", NOW)

    listed = {m.id: m for m in inbox.messages(pod)}
    inbox.delete(pod, planted.stem)

    assert listed[first].body == RATING and listed[later].body == RATING
    assert not listed[planted.stem].readable
    assert {m.id for m in inbox.messages(pod)} == {first, later}


def test_one_origin_can_not_fill_the_inbox(pod, monkeypatch):
    monkeypatch.setattr(inbox, "MAX_PER_ORIGIN", 3)
    key = bytes(32)
    for _ in range(3):
        inbox.deliver(pod.directory, pod.did, inbox.seal_to(pod.did, RATING), "x",
                      NOW, origin=(key, "rater-1"))

    with pytest.raises(InboxQuotaReached):
        inbox.deliver(pod.directory, pod.did, inbox.seal_to(pod.did, RATING), "x",
                      NOW, origin=(key, "rater-1"))
    other = inbox.deliver(pod.directory, pod.did, inbox.seal_to(pod.did, RATING), "x",
                          NOW, origin=(key, "rater-2"))
    ids = [m.id for m in inbox.messages(pod)]
    assert len(ids) == 4 and other in ids
    assert all(len(i) <= 40 and "rater" not in i for i in ids)


def test_a_quota_is_far_below_the_inbox_cap():
    assert inbox.MAX_PER_ORIGIN * 20 <= inbox.MAX_MESSAGES


def test_a_deleted_message_is_gone(pod):
    message_id = inbox.deliver(pod.directory, pod.did, inbox.seal_to(pod.did, RATING),
                               "GM0344", NOW)

    inbox.delete(pod, message_id)

    assert inbox.messages(pod) == []
    with pytest.raises(MessageNotFound):
        inbox.read(pod, message_id)


@pytest.mark.parametrize("message_id", ["../state", "", "x" * 41, "A-1", "a/b"])
def test_a_message_id_outside_the_inbox_is_not_found(pod, message_id):
    with pytest.raises(MessageNotFound):
        inbox.read(pod, message_id)


def test_a_full_inbox_refuses_the_next_message(pod, monkeypatch):
    monkeypatch.setattr(inbox, "MAX_MESSAGES", 2)
    for _ in range(2):
        inbox.deliver(pod.directory, pod.did, inbox.seal_to(pod.did, RATING), "GM0344",
                      NOW)

    with pytest.raises(InboxFull):
        inbox.deliver(pod.directory, pod.did, inbox.seal_to(pod.did, RATING), "GM0344",
                      NOW)


@pytest.mark.parametrize("outer", [
    {"id": "ID", "sender": "x", "received": "t"},
    {"id": "ID", "sender": "x", "received": "t", "sealed": 5},
    {"id": "ID", "sender": 5, "received": "t", "sealed": ""}, ["ID"], "ID"])
def test_an_outer_layer_of_any_other_shape_reads_as_unreadable(pod, outer):
    import json

    message_id = "0000000003-" + "cd" * 8
    text = json.dumps(outer).replace("ID", message_id).encode()
    (pod.directory / "inbox").mkdir(exist_ok=True)
    (pod.directory / "inbox" / f"{message_id}.msg").write_bytes(
        inbox.seal_to(pod.did, text))

    [message] = inbox.messages(pod)

    assert message.id == message_id and not message.readable
