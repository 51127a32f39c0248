"""Erasing a pod destroys its shard and its files: nothing of it opens afterwards,
not even a copy of the directory made before, with the right passphrase."""

from __future__ import annotations

import shutil

import pytest

from pod import PodLocked, UnlockFailed, envelope
from tests.factories import NOW, PASSPHRASE, full_workcontext, pod_store


def test_a_copy_made_before_erasure_opens_no_more_afterwards(tmp_path, store):
    pod = store.create(PASSPHRASE, NOW)
    pod.save_workcontext(full_workcontext(pod.did), NOW)
    passkey, (seed, kek) = pod.passkey, pod.key_material()
    copy = tmp_path / "copy"
    shutil.copytree(pod.directory, copy)
    assert store.unlock(pod.did, PASSPHRASE).workcontext() is not None

    store.erase(pod)
    shutil.copytree(copy, store.directory(pod.did))

    with pytest.raises(UnlockFailed):
        store.unlock(pod.did, PASSPHRASE)
    with pytest.raises(UnlockFailed):
        store.open_with_key(pod.did, passkey)
    with pytest.raises(UnlockFailed):
        pod_store(store.root).unlock(pod.did, PASSPHRASE)


def test_erasure_removes_the_pod_files_and_the_shard(store):
    pod = store.create(PASSPHRASE, NOW)
    pod.save_workcontext(full_workcontext(pod.did), NOW)
    shard_file = store.keyring.directory / f"{pod.pod_id}.json"
    assert shard_file.exists()

    store.erase(pod)

    assert not pod.directory.exists() and not shard_file.exists()
    assert not store.exists(pod.did)
    with pytest.raises(PodLocked):
        pod.workcontext()


def test_erasing_one_pod_leaves_the_others(store):
    one, two = store.create(PASSPHRASE, NOW), store.create(PASSPHRASE, NOW)
    two.save_workcontext(full_workcontext(two.did), NOW)

    store.erase(one)

    assert store.unlock(two.did, PASSPHRASE).workcontext() is not None


def test_the_shard_file_of_a_pod_holds_no_key_of_the_pod(store):
    pod = store.create(PASSPHRASE, NOW)
    content = (store.keyring.directory / f"{pod.pod_id}.json").read_bytes()
    seed, kek = pod.key_material()

    for secret in (seed, kek, pod.passkey):
        assert secret not in content and secret.hex().encode() not in content
    assert envelope.MAGIC not in content


def test_an_erasure_through_a_pod_opened_before_it_was_replaced_leaves_the_new_one(
        store):
    first = store.create(PASSPHRASE, NOW)
    seed = first.key_material()[0]
    opened_earlier = store.unlock(first.did, PASSPHRASE)
    store.erase(first)
    again = store.create(PASSPHRASE, NOW, seed=seed)  # the holder's archive, imported
    again.save_workcontext(full_workcontext(again.did), NOW)

    store.erase(opened_earlier)

    assert store.unlock(again.did, PASSPHRASE).workcontext() is not None
