"""Concurrent Workcontext writers share one durable commit: each gets its own version
and ETag, every version reads back, a stale If-Match fails alone, and a batch whose
commit fails reports the failure to every writer in it. Older versions fold into
sealed segments, so the manifest stays small however long the history grows."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pod import DecryptionFailed, PreconditionFailed
from pod import history
from pod.archive import export_archive, import_archive
from pod.commits import GroupCommit
from pod.files import pod_lock
from tests.factories import NOW, PASSPHRASE, full_workcontext, pod_store
from tests.pod.ondisk import read_version, write_version

WRITERS = 12


def test_writers_that_arrive_together_commit_in_one_batch():
    commits = GroupCommit()
    batches: list[int] = []
    first_inside, release = threading.Event(), threading.Event()

    def commit_batch(take):
        batch = _apply(take)
        batches.append(len(batch))
        if len(batches) == 1:
            first_inside.set()
            release.wait(5)

    with ThreadPoolExecutor(WRITERS) as pool:
        first = pool.submit(commits.run, "pod", lambda s, b: 0, commit_batch)
        assert first_inside.wait(5)
        rest = [pool.submit(commits.run, "pod", lambda s, b, n=n: n, commit_batch)
                for n in range(1, WRITERS)]
        _wait_queued(commits, WRITERS - 1)
        release.set()
        results = [first.result(5)] + [f.result(5) for f in rest]

    assert results == list(range(WRITERS))
    assert batches == [1, WRITERS - 1]


def _wait_queued(commits: GroupCommit, count: int, key: str = "pod") -> None:
    for _ in range(5000):
        if len(commits._queues.get(key, [])) == count:
            return
        threading.Event().wait(0.001)
    raise AssertionError("the writers never queued")


def test_a_batch_whose_commit_fails_fails_every_writer_in_it():
    commits = GroupCommit()

    def commit_batch(take):
        raise OSError("disk full")

    with pytest.raises(OSError):
        commits.run("pod", lambda s, b: 1, commit_batch)
    assert commits.run("pod", lambda s, b: 2, _apply) == 2


def _apply(take):
    batch = take()
    for pending in batch:
        pending.result = pending.job(None, None)
    return batch


def test_writers_that_arrive_while_the_leader_waits_for_the_lock_join_its_batch():
    """The leader takes its batch once it holds the pod's lock: the writers that
    queue while another process commits the pod go into that one commit."""
    commits = GroupCommit()
    batches: list[int] = []
    asking, lock_free = threading.Event(), threading.Event()

    def commit_batch(take):
        asking.set()
        lock_free.wait(5)  # another process holds the pod's lock until then
        batches.append(len(_apply(take)))

    with ThreadPoolExecutor(WRITERS) as pool:
        first = pool.submit(commits.run, "pod", lambda s, b: 0, commit_batch)
        assert asking.wait(5)
        rest = [pool.submit(commits.run, "pod", lambda s, b, n=n: n, commit_batch)
                for n in range(1, WRITERS)]
        _wait_queued(commits, WRITERS)
        lock_free.set()
        results = [first.result(5)] + [f.result(5) for f in rest]

    assert results == list(range(WRITERS))
    assert batches == [WRITERS]


@pytest.fixture
def pod(tmp_path: Path):
    store = pod_store(tmp_path / "pods")
    return store.create(PASSPHRASE, NOW)


def test_writers_queued_behind_a_held_pod_lock_share_one_commit(pod):
    """As when a second server process commits the pod: its file lock is held
    while this process's writers arrive; they all go into one commit after it."""
    pod.save_workcontext(full_workcontext(pod.did), NOW)
    generation = pod.read_state()["generation"]
    documents = [full_workcontext(pod.did, hours_per_week=n) for n in range(WRITERS)]

    with ThreadPoolExecutor(WRITERS) as pool:
        with pod_lock(pod.directory):
            stored = [pool.submit(pod.store_version, d, NOW) for d in documents]
            _wait_queued(pod._commits, WRITERS, pod.pod_id)
        versions = sorted(f.result(10).version for f in stored)

    assert versions == list(range(2, WRITERS + 2))
    assert pod.read_state()["generation"] == generation + 1
    assert sorted(pod.version(v)["availability"]["hoursPerWeek"] for v in versions) \
        == list(range(WRITERS))


def test_concurrent_writers_each_get_their_own_version_and_etag(pod):
    documents = [full_workcontext(pod.did, hours_per_week=n) for n in range(WRITERS)]

    with ThreadPoolExecutor(WRITERS) as pool:
        stored = list(pool.map(lambda d: pod.store_version(d, NOW), documents))

    assert sorted(s.version for s in stored) == list(range(1, WRITERS + 1))
    for document, saved in zip(documents, stored):
        assert pod.version(saved.version) == document
    assert len({s.etag for s in stored}) == WRITERS
    assert pod.etag() == max(stored, key=lambda s: s.version).etag


def test_concurrent_writers_fill_the_version_log_without_gaps_or_overlaps(pod):
    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(lambda n: pod.save_workcontext(
            full_workcontext(pod.did, hours_per_week=n % 40), NOW), range(40)))

    state = pod.read_state()
    ranges = [(e["log"], e["length"]) for e, _ in pod.history()]
    assert [start for start, _ in ranges] == \
        [sum(length for _, length in ranges[:k]) for k in range(len(ranges))]
    assert state["logEnd"] == sum(length for _, length in ranges)
    assert sorted(p.name for p in (pod.directory / "versions").iterdir()) == \
        ["index.bin", "log.bin"]
    assert [v.version for v in pod.versions()] == list(range(1, 41))
    assert sorted(pod.version(n)["availability"]["hoursPerWeek"]
                  for n in range(1, 41)) == list(range(40))


def test_of_concurrent_writers_with_one_etag_exactly_one_wins(pod):
    pod.save_workcontext(full_workcontext(pod.did), NOW)
    etag = pod.etag()

    def attempt(n: int):
        try:
            return pod.store_version(full_workcontext(pod.did, hours_per_week=n), NOW,
                                     if_match=etag)
        except PreconditionFailed:
            return None

    with ThreadPoolExecutor(WRITERS) as pool:
        outcomes = list(pool.map(attempt, range(WRITERS)))

    winners = [o for o in outcomes if o is not None]
    assert len(winners) == 1
    assert [v.version for v in pod.versions()] == [1, 2]


def test_a_changed_version_in_the_log_fails_alone(pod):
    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(lambda n: pod.save_workcontext(
            full_workcontext(pod.did, hours_per_week=n), NOW), range(WRITERS)))
    pod.save_workcontext(full_workcontext(pod.did), NOW)  # the newest batch: alone
    data = bytearray(read_version(pod, 3))
    data[len(data) // 2] ^= 1
    write_version(pod, 3, bytes(data))

    with pytest.raises(DecryptionFailed):
        pod.version(3)
    assert all(pod.version(n) for n in range(1, WRITERS + 2) if n != 3)


@pytest.fixture
def small_folds(monkeypatch):
    monkeypatch.setattr(history, "FOLD", 4)


def test_older_versions_fold_into_segments_and_all_read_back(pod, small_folds):
    for n in range(11):
        pod.save_workcontext(full_workcontext(pod.did, hours_per_week=n), NOW)

    state = pod.read_state()
    assert len(state["versions"]) <= 4 and len(state["segments"]) == 2
    assert [v.version for v in pod.versions()] == list(range(1, 12))
    assert [pod.version(n)["availability"]["hoursPerWeek"]
            for n in range(1, 12)] == list(range(11))
    assert [entry["version"] for entry, _ in pod.history()] == list(range(1, 12))
    assert pod.restore(1, NOW) == 12


def test_a_changed_segment_fails_to_decrypt(pod, small_folds):
    for n in range(6):
        pod.save_workcontext(full_workcontext(pod.did, hours_per_week=n), NOW)
    [segment] = pod.read_state()["segments"]
    path = pod.directory / "versions" / "index.bin"
    data = bytearray(path.read_bytes())
    data[segment["index"] + segment["length"] - 1] ^= 1
    path.write_bytes(bytes(data))

    with pytest.raises(DecryptionFailed):
        pod.version(1)
    with pytest.raises(DecryptionFailed):
        pod.versions()
    assert pod.workcontext()["availability"]["hoursPerWeek"] == 5


def test_a_long_history_imports_folded_and_exports_the_same(pod, small_folds, tmp_path):
    for n in range(9):
        pod.save_workcontext(full_workcontext(pod.did, hours_per_week=n), NOW)
    elsewhere = pod_store(tmp_path / "elsewhere")
    archive = export_archive(pod, PASSPHRASE, [], NOW, elsewhere.derivation)

    moved = import_archive(elsewhere, archive, PASSPHRASE, NOW,
                           prepare=lambda new_pod, document: document)

    assert moved.read_state()["segments"]
    assert export_archive(moved, PASSPHRASE, [], NOW, elsewhere.derivation)[
        "history"] == archive["history"]
