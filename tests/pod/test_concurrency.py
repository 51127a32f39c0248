"""Concurrent read-modify-write of the Workcontext with If-Match loses no update:
a writer whose ETag went stale gets PreconditionFailed and tries again."""

from __future__ import annotations

import threading

from pod import PreconditionFailed
from tests.factories import NOW, PASSPHRASE, pod_store

WRITERS = 6
ROUNDS = 5


def test_concurrent_increments_with_if_match_lose_nothing(tmp_path):
    store = pod_store(tmp_path / "pods")
    pod = store.create(PASSPHRASE, NOW)
    pod.save_workcontext({"id": pod.did, "count": 0}, NOW)
    refused = []

    def increment() -> None:
        mine = store.open_with_key(pod.did, pod.passkey)
        for _ in range(ROUNDS):
            while True:
                document, etag = mine.workcontext_with_etag()
                try:
                    mine.save_workcontext({**document, "count": document["count"] + 1},
                                          NOW, if_match=etag)
                    break
                except PreconditionFailed:
                    refused.append(1)

    threads = [threading.Thread(target=increment) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert pod.workcontext()["count"] == WRITERS * ROUNDS
    assert len(pod.versions()) == WRITERS * ROUNDS + 1


def test_without_if_match_the_last_writer_wins_and_both_versions_are_kept(tmp_path):
    store = pod_store(tmp_path / "pods")
    pod = store.create(PASSPHRASE, NOW)
    pod.save_workcontext({"id": pod.did, "count": 0}, NOW)
    etag = pod.etag()

    pod.save_workcontext({"id": pod.did, "count": 1}, NOW)
    pod.save_workcontext({"id": pod.did, "count": 2}, NOW)

    assert [pod.version(n)["count"] for n in (1, 2, 3)] == [0, 1, 2]
    assert pod.etag() != etag


def test_readers_racing_writers_never_see_a_false_rollback(tmp_path):
    store = pod_store(tmp_path / "pods")
    pod = store.create(PASSPHRASE, NOW)
    pod.save_workcontext({"id": pod.did, "count": 0}, NOW)
    failures = []
    done = threading.Event()

    def read() -> None:
        reader = store.open_with_key(pod.did, pod.passkey)
        while not done.is_set():
            try:
                reader.workcontext()
            except Exception as exc:  # any failure here is the bug under test
                failures.append(type(exc).__name__)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for thread in readers:
        thread.start()
    for count in range(1, 60):
        pod.save_workcontext({"id": pod.did, "count": count}, NOW)
    done.set()
    for thread in readers:
        thread.join()

    assert failures == []
