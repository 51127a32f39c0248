"""The state lives in two slots written in place: a torn newest slot, or a state
whose appended versions did not reach the disk, gives way to the previous state;
a pod written in the older one-state format reads and moves over on its next
commit; a state that outgrows its slot gets a larger file."""

from __future__ import annotations

import json
import shutil

import pytest

from pod import UnlockedPod, crypto, envelope, history, slots
from pod.store import PodStore
from tests.factories import NOW, PASSPHRASE, full_workcontext, pod_store
from tests.pod.ondisk import flip_in_slot, read_version, slot_record, write_version


def _crash_during_next_save(store: PodStore, pod: UnlockedPod, damage) -> UnlockedPod:
    """Save version 2, then leave its disk as a crash in the middle of its flush
    would: ``damage`` undoes part of it, and the witness is the one before (it is
    advanced only after the flush). Returns the pod as a restarted server sees it."""
    witness = store.keyring.directory / f"{pod.pod_id}.generation"
    before = witness.read_bytes()
    pod.save_workcontext(full_workcontext(pod.did, hours_per_week=40), NOW)
    damage(pod)
    witness.write_bytes(before)
    return pod_store(store.root).unlock(pod.did, PASSPHRASE)


def test_a_torn_newest_slot_leaves_the_previous_state(store, pod):
    restarted = _crash_during_next_save(
        store, pod, lambda p: flip_in_slot(p, p.read_state()["generation"], at=200))

    assert [v.version for v in restarted.versions()] == [1]
    assert restarted.workcontext()["availability"]["hoursPerWeek"] == 16
    assert restarted.save_workcontext(full_workcontext(pod.did), NOW) == 2
    assert [v.version for v in restarted.versions()] == [1, 2]


def test_a_slot_cut_short_by_a_crash_leaves_the_previous_state(store, pod):
    def cut(p):
        path, offset = slot_record(p, p.read_state()["generation"])
        data = bytearray(path.read_bytes())
        data[offset + 100:offset + 4096] = bytes(3996)
        path.write_bytes(bytes(data))

    restarted = _crash_during_next_save(store, pod, cut)

    assert [v.version for v in restarted.versions()] == [1]


def test_a_state_whose_versions_did_not_reach_the_disk_is_passed_over(store, pod):
    restarted = _crash_during_next_save(
        store, pod, lambda p: write_version(p, 2, bytes(len(read_version(p, 2)))))

    assert [v.version for v in restarted.versions()] == [1]
    assert restarted.save_workcontext(full_workcontext(pod.did), NOW) == 2
    assert restarted.version(2) == full_workcontext(pod.did)


def test_a_torn_slot_is_still_a_rollback_once_the_witness_names_it(store, pod):
    pod.save_workcontext(full_workcontext(pod.did, hours_per_week=40), NOW)
    flip_in_slot(pod, pod.read_state()["generation"], at=200)

    with pytest.raises(Exception) as caught:
        pod_store(store.root).unlock(pod.did, PASSPHRASE).versions()

    assert type(caught.value).__name__ == "RollbackDetected"


def test_a_pod_in_the_one_state_format_reads_and_moves_over_on_its_next_commit(
        store):
    # Version 1 as a file of its own and the state in the format before the slots.
    pod = store.create(PASSPHRASE, NOW)
    document = full_workcontext(pod.did, hours_per_week=8)
    blob = pod.seal(json.dumps(document).encode(), "workcontext", 1)
    (pod.directory / "versions").mkdir()
    (pod.directory / "versions" / "000001.bin").write_bytes(blob)
    state = pod.read_state()
    generation = state["generation"] + 1
    body = {"versions": [{"version": 1, "saved": "2026-12-04T12:00:00Z",
                          "digest": crypto.digest(blob)}],
            "grants": [], "sequence": state["sequence"], "binaries": {}}
    old = envelope.seal_state(pod.key_material()[1], pod.did, generation,
                              json.dumps(body).encode())
    (pod.directory / "state.bin").write_bytes(old)
    store.keyring.advance(pod.pod_id, generation)

    assert pod.workcontext() == document
    assert pod.save_workcontext(full_workcontext(pod.did), NOW) == 2

    assert (pod.directory / "state.bin").read_bytes()[:4] == slots.MAGIC
    assert pod.version(1) == document
    assert pod.version(2) == full_workcontext(pod.did)


def test_a_state_that_outgrows_its_slot_gets_a_larger_file(store, pod, monkeypatch):
    monkeypatch.setattr(history, "FOLD", 1000)  # every entry stays in the state
    path = pod.directory / "state.bin"
    before = int.from_bytes(path.read_bytes()[4:8], "big")
    for n in range(130):  # a manifest entry is about 140 bytes
        pod.save_workcontext(full_workcontext(pod.did, hours_per_week=n % 40), NOW)

    assert int.from_bytes(path.read_bytes()[4:8], "big") > before
    assert [v.version for v in pod.versions()] == list(range(1, 132))
    assert pod.version(131)["availability"]["hoursPerWeek"] == 129 % 40


def test_a_slot_from_another_pod_does_not_open(store, pod):
    other = store.create(PASSPHRASE, NOW)
    shutil.copyfile(other.directory / "state.bin", pod.directory / "state.bin")

    with pytest.raises(Exception) as caught:
        pod.versions()

    assert type(caught.value).__name__ == "DecryptionFailed"
