"""Older manifest entries fold into segments of the history index, whose levels
merge, so the state names a few segments however long the history; a segment that
did not reach the disk passes its state over for the previous one; a pod whose
segments are files of their own reads them and folds into the index from then on."""

from __future__ import annotations

import json

import pytest

from pod import crypto, history
from tests.factories import NOW, PASSPHRASE, full_workcontext, pod_store


@pytest.fixture
def small_levels(monkeypatch):
    monkeypatch.setattr(history, "FOLD", 2)
    monkeypatch.setattr(history, "MERGE", 3)


def _save(pod, hours: int) -> int:
    return pod.save_workcontext(full_workcontext(pod.did, hours_per_week=hours % 40),
                                NOW)


def test_the_state_names_few_segments_however_long_the_history(store, small_levels):
    pod = store.create(PASSPHRASE, NOW)
    most = 0
    for n in range(1, 121):
        _save(pod, n)
        most = max(most, len(pod.read_state().get("segments", [])))

    # Levels hold 2, 6, 18, 54 entries: at most MERGE - 1 segments each.
    assert most <= 2 * 4
    assert [v.version for v in pod.versions()] == list(range(1, 121))
    assert [pod.version(n)["availability"]["hoursPerWeek"] for n in (1, 57, 120)] \
        == [1, 17, 0]
    assert [entry["version"] for entry, _ in pod.history()] == list(range(1, 121))


def test_segments_are_contiguous_and_merge_into_larger_levels(store, small_levels):
    pod = store.create(PASSPHRASE, NOW)
    for n in range(1, 60):
        _save(pod, n)

    state = pod.read_state()
    segments = state["segments"]
    firsts = [s["first"] for s in segments]
    assert firsts[0] == 1
    assert [s["last"] + 1 for s in segments[:-1]] == firsts[1:]
    assert segments[-1]["last"] + 1 == state["versions"][0]["version"]
    assert max(history.count(s) for s in segments) >= 18
    assert state["indexEnd"] >= sum(s["length"] for s in segments)


def test_a_state_whose_segment_did_not_reach_the_disk_is_passed_over(store,
                                                                      small_levels):
    pod = store.create(PASSPHRASE, NOW)
    _save(pod, 1)
    _save(pod, 2)
    witness = store.keyring.directory / f"{pod.pod_id}.generation"
    before = witness.read_bytes()
    _save(pod, 3)  # the third entry folds the first two into a segment
    [segment] = pod.read_state()["segments"]
    index = pod.directory / "versions" / "index.bin"
    data = bytearray(index.read_bytes())
    data[segment["index"]:segment["index"] + segment["length"]] = \
        bytes(segment["length"])
    index.write_bytes(bytes(data))
    witness.write_bytes(before)  # the witness advances only after the flush

    restarted = pod_store(store.root).unlock(pod.did, PASSPHRASE)

    assert [v.version for v in restarted.versions()] == [1, 2]
    assert _save(restarted, 30) == 3
    assert [restarted.version(n)["availability"]["hoursPerWeek"]
            for n in (1, 2, 3)] == [1, 2, 30]


def test_a_pod_with_segment_files_reads_them_and_folds_into_the_index(store,
                                                                     monkeypatch):
    # A pod as the format before the index left it: versions 1-3 in a segment
    # file of their own, versions 4-6 in the state.
    monkeypatch.setattr(history, "FOLD", 1000)
    pod = store.create(PASSPHRASE, NOW)
    for n in range(1, 7):
        _save(pod, n)
    with pod.write_locked():
        state = pod.read_state()
        moving, state["versions"] = state["versions"][:3], state["versions"][3:]
        blob = pod.seal(json.dumps(moving).encode(), "segment", 1)
        (pod.directory / "versions" / "segment-000001.bin").write_bytes(blob)
        state["segments"] = [{"first": 1, "last": 3, "digest": crypto.digest(blob)}]
        pod.commit(state)

    assert [v.version for v in pod.versions()] == list(range(1, 7))
    assert pod.version(2)["availability"]["hoursPerWeek"] == 2

    monkeypatch.setattr(history, "FOLD", 2)
    for n in range(7, 30):
        _save(pod, n)

    segments = pod.read_state()["segments"]
    assert segments[0] == {"first": 1, "last": 3, "digest": crypto.digest(blob)}
    assert all("index" in s for s in segments[1:])
    assert [v.version for v in pod.versions()] == list(range(1, 30))
    assert [pod.version(n)["availability"]["hoursPerWeek"] for n in (1, 5, 29)] \
        == [1, 5, 29]


def test_a_segment_moved_to_another_range_does_not_open(store, small_levels):
    pod = store.create(PASSPHRASE, NOW)
    for n in range(1, 10):
        _save(pod, n)
    with pod.write_locked():
        state = pod.read_state()
        first, second = state["segments"][:2]
        # Name the first segment's bytes under the second one's range.
        second.update(index=first["index"], length=first["length"],
                      digest=first["digest"])
        pod.commit(state)

    with pytest.raises(Exception) as caught:
        pod.versions()

    assert type(caught.value).__name__ == "DecryptionFailed"
