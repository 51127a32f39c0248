"""Ratings the registry seals reach the holder's own pod inbox in the embedded default."""

from __future__ import annotations

from datetime import datetime, timezone

from consent import HolderKey
from pod import PodStore
from pod import inbox as pod_inbox
from pod.crypto import INTERACTIVE
from registry import FileDropInbox
from vg.pod_inbox import SENDER, PodInboxDelivery

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)


def test_a_sealed_rating_lands_in_the_pod_inbox_readable_only_with_the_pod(tmp_path):
    pods = PodStore(tmp_path / "pods", kdf_cost=INTERACTIVE)
    pod = pods.create("een lange wachtzin 42", NOW)
    delivery = PodInboxDelivery(pods, FileDropInbox(tmp_path / "drop"), lambda: NOW)

    delivery.deliver(pod.did, pod_inbox.seal_to(pod.did, b'{"aspects": {}}'))

    [message] = pod_inbox.messages(pods.unlock(pod.did, "een lange wachtzin 42"))
    assert (message.sender, message.body) == (SENDER, b'{"aspects": {}}')
    assert not (tmp_path / "drop").exists()


def test_a_rating_for_a_pod_elsewhere_waits_in_the_file_drop(tmp_path):
    pods = PodStore(tmp_path / "pods", kdf_cost=INTERACTIVE)
    drop = FileDropInbox(tmp_path / "drop")
    did = HolderKey(bytes(32)).did

    PodInboxDelivery(pods, drop, lambda: NOW).deliver(did, b"sealed")

    assert [p.read_bytes() for p in drop.directory(did).iterdir()] == [b"sealed"]
