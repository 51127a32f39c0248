"""Raising the Argon2id cost re-wraps a pod once: two unlocks at the same moment
(a double click on sign in) both get a passkey that opens the pod, and a look
that asks not to upgrade leaves the pod's keys as they are."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest

from pod import UnlockFailed
from pod.crypto import INTERACTIVE
from pod.store import PodStore
from tests.factories import NOW, PASSPHRASE, pod_store

RAISED = (INTERACTIVE[0] + 1, INTERACTIVE[1])


def test_two_unlocks_at_a_raised_cost_both_get_a_working_passkey(tmp_path):
    made = pod_store(tmp_path / "pods")
    did = made.create(PASSPHRASE, NOW).did
    for _ in range(3):
        store = PodStore(tmp_path / "pods", kdf_cost=RAISED)
        made.change_passphrase(did, PASSPHRASE, PASSPHRASE, INTERACTIVE)
        start = threading.Barrier(2)
        passkeys = []

        def sign_in():
            start.wait()
            passkeys.append(store.unlock(did, PASSPHRASE).passkey)

        threads = [threading.Thread(target=sign_in) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert len(passkeys) == 2
        assert passkeys[0] == passkeys[1]  # re-wrapped once, not once each
        for passkey in passkeys:
            assert store.open_with_key(did, passkey).did == did


def test_an_unlock_without_upgrade_keeps_the_pod_and_its_sessions(tmp_path):
    made = pod_store(tmp_path / "pods")
    pod = made.create(PASSPHRASE, NOW)
    before = (made.directory(pod.did) / "pod.json").read_bytes()
    store = PodStore(tmp_path / "pods", kdf_cost=RAISED)

    store.unlock(pod.did, PASSPHRASE, upgrade=False)

    assert (made.directory(pod.did) / "pod.json").read_bytes() == before
    assert store.open_with_key(pod.did, pod.passkey).did == pod.did


def test_a_passkey_from_before_a_re_wrap_opens_the_pod_until_the_grace_ends(
        tmp_path):
    made = pod_store(tmp_path / "pods")
    pod = made.create(PASSPHRASE, NOW)
    earlier, did = pod.passkey, pod.did
    store = PodStore(tmp_path / "pods", kdf_cost=RAISED,
                     rewrap_grace=timedelta(minutes=30))
    pod_json = store.directory(did) / "pod.json"

    store.unlock(did, PASSPHRASE, now=NOW)

    assert json.loads(pod_json.read_bytes())["kdf"]["opslimit"] == RAISED[0]
    assert store.open_with_key(did, earlier, NOW + timedelta(minutes=29)).did == did
    with pytest.raises(UnlockFailed):
        store.open_with_key(did, earlier, NOW + timedelta(minutes=30))
    store.unlock(did, PASSPHRASE, now=NOW + timedelta(minutes=31))
    assert "previous" not in json.loads(pod_json.read_bytes())


def test_a_new_passphrase_ends_the_sessions_from_before_a_re_wrap_too(tmp_path):
    made = pod_store(tmp_path / "pods")
    pod = made.create(PASSPHRASE, NOW)
    store = PodStore(tmp_path / "pods", kdf_cost=RAISED)
    store.unlock(pod.did, PASSPHRASE, now=NOW)

    store.change_passphrase(pod.did, PASSPHRASE, "een andere lange wachtzin 7")

    with pytest.raises(UnlockFailed):
        store.open_with_key(pod.did, pod.passkey, NOW)
