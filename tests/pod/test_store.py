"""A pod is created with a passphrase, unlocks only with it, and is ciphertext on disk.

Argon2id runs at libsodium's interactive cost here (the floor the pod accepts), so
each create or unlock costs well under a second.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta
from pathlib import Path

import pytest

from consent import Audience, HolderKey
from pod import PodExists, PodNotFound, UnlockFailed, UnlockedPod, WeakPassphrase
from pod import crypto
from pod.store import PodStore
from tests.factories import (
    EMAIL,
    NAME,
    NOW,
    PASSPHRASE,
    TELEPHONE,
    full_workcontext,
    skill_pool,
)


@pytest.fixture
def pod(store: PodStore) -> UnlockedPod:
    return store.create(PASSPHRASE, NOW)


def test_a_created_pod_unlocks_with_its_passphrase(store, pod):
    document = full_workcontext(pod.did)
    pod.save_workcontext(document, NOW)

    again = store.unlock(pod.did, PASSPHRASE)

    assert again.did == pod.did and again.did.startswith("did:key:z6Mk")
    assert again.workcontext() == document
    assert store.exists(pod.did)


def test_two_pods_get_two_identities(store, pod):
    assert store.create(PASSPHRASE, NOW).did != pod.did


def test_a_wrong_passphrase_fails_to_unlock(store, pod):
    with pytest.raises(UnlockFailed):
        store.unlock(pod.did, PASSPHRASE + "!")


def test_a_missing_pod_fails_exactly_like_a_wrong_passphrase(store, pod):
    with pytest.raises(UnlockFailed) as wrong:
        store.unlock(pod.did, "not the passphrase at all")
    with pytest.raises(UnlockFailed) as missing:
        store.unlock(HolderKey(b"\x09" * 32).did, PASSPHRASE)

    assert type(wrong.value) is type(missing.value) is UnlockFailed
    assert str(wrong.value) == str(missing.value)
    assert wrong.value.args == missing.value.args
    assert (wrong.value.status, wrong.value.code) == (401, "unlock-failed")
    assert vars(wrong.value) == vars(missing.value)


@pytest.mark.parametrize("did", ["", "../../etc/passwd", "did:key:zNOPE", "x" * 500])
def test_unlocking_any_unknown_identifier_fails_opaquely(store, did):
    with pytest.raises(UnlockFailed):
        store.unlock(did, PASSPHRASE)


def test_a_missing_pod_takes_the_time_of_a_wrong_passphrase_without_deriving(
        store, pod, monkeypatch):
    """Time would tell which dids have a pod if a missing one failed early; a
    derivation for it would let made-up dids take the holders' places."""
    costs = []
    derive = crypto.derive_key
    monkeypatch.setattr(crypto, "derive_key", lambda passphrase, salt, ops, mem: (
        costs.append((ops, mem)), derive(passphrase, salt, ops, mem))[1])
    stored = json.loads((store.directory(pod.did) / "pod.json").read_bytes())["kdf"]
    took = {}

    for did in (pod.did, HolderKey(b"\x09" * 32).did, "did:key:zNOPE"):
        started = time.perf_counter()
        with pytest.raises(UnlockFailed):
            store.unlock(did, "not the passphrase at all")
        took[did] = time.perf_counter() - started

    assert costs == [(stored["opslimit"], stored["memlimit"])]
    assert min(took.values()) >= 0.5 * store.derivation._typical


def test_a_wrong_key_encryption_key_fails_to_open(store, pod):
    with pytest.raises(UnlockFailed):
        store.open_with_key(pod.did, bytes(32))


def test_a_short_passphrase_is_refused(store):
    with pytest.raises(WeakPassphrase):
        store.create("short", NOW)


def test_creating_a_pod_whose_directory_exists_is_refused(store, pod, monkeypatch):
    # Only a repeated seed could collide; force one to see the refusal.
    monkeypatch.setattr("pod.crypto.random_key", lambda: b"\x07" * 32)
    store.create(PASSPHRASE, NOW)

    with pytest.raises(PodExists):
        store.create(PASSPHRASE, NOW)


def every_file(root: Path) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in root.rglob("*") if path.is_file()}


def encodings(secret: bytes) -> list[bytes]:
    return [secret, secret.hex().encode(), base64.b64encode(secret),
            base64.urlsafe_b64encode(secret).rstrip(b"=")]


def test_nothing_personal_is_written_in_plaintext(store, pod):
    document = full_workcontext(pod.did)
    pod.save_workcontext(document, NOW)
    pod.save_workcontext({**document, "fieldOfWork": "management"}, NOW)
    grant = pod.add_grant(Audience("all_municipalities"), ["matching"],
                          ["skills", "level"], NOW + timedelta(days=30), NOW)
    pod.disclosure(grant, NOW)
    pod.withdraw(grant.id, NOW)

    files = every_file(store.root)
    needles = [NAME, EMAIL, TELEPHONE, skill_pool()[0], "Adviseur III",
               "management", grant.id, PASSPHRASE]

    assert any(p.parent.name == "versions" for p in files)
    for path, content in files.items():
        for needle in needles:
            assert needle.encode("utf-8") not in content, (path, needle)


def test_the_keys_are_never_written_in_the_clear(store, pod):
    pod.save_workcontext(full_workcontext(pod.did), NOW)
    # The content key and the signing seed have no public accessor; read them from
    # the unlocked pod so that the scan covers every key, not just the KEK.
    secrets = [pod.passkey, pod.key_material()[1], pod.key_material()[0]]

    for path, content in every_file(store.root).items():
        for secret in secrets:
            for encoded in encodings(secret):
                assert encoded not in content, path


def test_the_only_readable_file_holds_no_personal_data(store, pod):
    pod.save_workcontext(full_workcontext(pod.did), NOW)
    directory = store.directory(pod.did)

    meta = json.loads((directory / "pod.json").read_bytes())

    assert set(meta) == {"format", "did", "created", "kdf", "keys"}
    assert meta["kdf"]["alg"] == "argon2id"
    for path in every_file(directory):
        if path.name not in ("pod.json", ".lock"):
            with pytest.raises(ValueError):
                json.loads(path.read_bytes())


@pytest.mark.parametrize("suffix", ["\n", " ", "/", "/.."])
def test_a_pod_id_with_anything_after_it_names_no_pod(store, pod, suffix):
    pod_id = store.pod_id(pod.did)
    assert store.did_for_id(pod_id) == pod.did

    with pytest.raises(PodNotFound):
        store.did_for_id(pod_id + suffix)
