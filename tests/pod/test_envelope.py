"""Each resource write has its own data key, bound to the pod, the resource and its
version; the state file is bound to its generation, and an older one is refused."""

from __future__ import annotations

import shutil

import pytest

from pod import DecryptionFailed, RollbackDetected
from pod import envelope
from tests.factories import NOW, PASSPHRASE, full_workcontext, pod_store
from tests.pod.ondisk import read_version, write_version

KEK = bytes(range(32))
AD = envelope.associated("did:key:zExample", "workcontext", 1)


def test_a_sealed_resource_opens_only_under_its_own_name_and_version():
    blob = envelope.seal_resource(KEK, AD, b"content")

    assert envelope.open_resource(KEK, AD, blob) == b"content"
    for other in (envelope.associated("did:key:zExample", "workcontext", 2),
                  envelope.associated("did:key:zOther", "workcontext", 1),
                  envelope.associated("did:key:zExample", "state", 1)):
        with pytest.raises(DecryptionFailed):
            envelope.open_resource(KEK, other, blob)


def test_two_seals_of_the_same_content_use_two_data_keys():
    one = envelope.seal_resource(KEK, AD, b"content")
    two = envelope.seal_resource(KEK, AD, b"content")

    assert one[:80] != two[:80] and one[80:] != two[80:]


def test_a_data_key_wrap_moved_onto_another_resource_fails():
    one = envelope.seal_resource(KEK, AD, b"one")
    two = envelope.seal_resource(KEK, AD, b"two")
    spliced = one[:4 + 72] + two[4 + 72:]

    with pytest.raises(DecryptionFailed):
        envelope.open_resource(KEK, AD, spliced)


def test_a_state_file_with_its_generation_changed_fails():
    blob = bytearray(envelope.seal_state(KEK, "did:key:zExample", 7, b"{}"))
    blob[11] ^= 0x01

    with pytest.raises(DecryptionFailed):
        envelope.open_state(KEK, "did:key:zExample", bytes(blob))


def test_a_state_rolled_back_with_its_keyring_entry_is_caught_while_the_server_runs(
        store, pod):
    state = pod.directory / "state.bin"
    witness = store.keyring.directory / f"{pod.pod_id}.json"
    old_state, old_witness = state.read_bytes(), witness.read_bytes()
    pod.save_workcontext(full_workcontext(pod.did, hours_per_week=40), NOW)
    state.write_bytes(old_state)
    witness.write_bytes(old_witness)

    with pytest.raises(RollbackDetected):
        pod.versions()


def test_a_whole_pod_directory_restored_from_an_old_copy_is_detected(
        tmp_path, store, pod):
    copy = tmp_path / "copy"
    shutil.copytree(pod.directory, copy)
    pod.save_workcontext(full_workcontext(pod.did, hours_per_week=40), NOW)
    shutil.rmtree(pod.directory)
    shutil.copytree(copy, pod.directory)
    restarted = pod_store(store.root)

    with pytest.raises(RollbackDetected):
        restarted.unlock(pod.did, PASSPHRASE).versions()


def test_a_version_file_replaced_by_an_older_write_of_the_same_number_fails(
        store, pod):
    # A crash can leave an uncommitted ciphertext under the next number; the
    # manifest's digest tells the committed one from it.
    pod.save_workcontext(full_workcontext(pod.did, hours_per_week=40), NOW)
    committed = read_version(pod, 1)
    write_version(pod, 1, pod.seal(b'{"id": "x"}', "workcontext", 1))

    with pytest.raises(DecryptionFailed):
        pod.version(1)
    write_version(pod, 1, committed)
    assert pod.version(1)["availability"]["hoursPerWeek"] == 16


def test_a_state_generation_goes_up_with_every_commit(pod):
    before = pod.read_state()["generation"]
    pod.save_workcontext(full_workcontext(pod.did), NOW)

    assert pod.read_state()["generation"] == before + 1
