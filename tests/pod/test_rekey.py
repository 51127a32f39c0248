"""A passphrase change or a higher Argon2id cost re-wraps the keys in pod.json and
touches no data; the old passphrase and its sessions stop working."""

from __future__ import annotations

import json

import pytest

from pod import PodLocked, UnlockFailed, UnlockedPod, WeakPassphrase
from pod.crypto import INTERACTIVE, MODERATE
from pod.store import PodStore
from tests.factories import PASSPHRASE

NEW = "a brand new passphrase for the pod"


def data_files(pod: UnlockedPod) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in pod.directory.rglob("*.bin")}


def test_a_changed_passphrase_unlocks_and_the_old_one_does_not(store, pod):
    before = data_files(pod)

    changed = store.change_passphrase(pod.did, PASSPHRASE, NEW)

    assert data_files(pod) == before
    assert store.unlock(pod.did, NEW).workcontext() == changed.workcontext()
    with pytest.raises(UnlockFailed):
        store.unlock(pod.did, PASSPHRASE)


def test_a_passphrase_change_ends_sessions_of_the_old_passphrase(store, pod):
    old_session_key = pod.passkey
    store.change_passphrase(pod.did, PASSPHRASE, NEW)

    with pytest.raises(UnlockFailed):
        store.open_with_key(pod.did, old_session_key)


def test_a_passphrase_change_needs_the_current_passphrase(store, pod):
    with pytest.raises(UnlockFailed):
        store.change_passphrase(pod.did, "not the passphrase at all", NEW)
    with pytest.raises(WeakPassphrase):
        store.change_passphrase(pod.did, PASSPHRASE, "short")

    assert store.unlock(pod.did, PASSPHRASE).workcontext() is not None


def test_unlocking_raises_a_stored_cost_below_the_store_cost(tmp_path, store, pod):
    meta = pod.directory / "pod.json"
    assert json.loads(meta.read_bytes())["kdf"]["opslimit"] == INTERACTIVE[0]
    stricter = PodStore(store.root, kdf_cost=(MODERATE[0], INTERACTIVE[1]))

    opened = stricter.unlock(pod.did, PASSPHRASE)

    kdf = json.loads(meta.read_bytes())["kdf"]
    assert (kdf["opslimit"], kdf["memlimit"]) == (MODERATE[0], INTERACTIVE[1])
    assert opened.workcontext()["availability"]["hoursPerWeek"] == 16


def test_a_stored_cost_outside_the_allowed_range_fails_to_unlock(store, pod):
    meta_path = pod.directory / "pod.json"
    meta = json.loads(meta_path.read_bytes())
    meta["kdf"]["memlimit"] = 1 << 40
    meta_path.write_text(json.dumps(meta))

    with pytest.raises(UnlockFailed):
        store.unlock(pod.did, PASSPHRASE)


def test_a_locked_pod_holds_no_keys_and_refuses_to_work(pod):
    pod.lock()

    assert pod.locked
    with pytest.raises(PodLocked):
        pod.workcontext()
    with pytest.raises(PodLocked):
        pod.passkey
