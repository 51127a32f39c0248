"""Writers on an event loop share one durable commit too: they wait for their batch
without a thread each, every writer gets its own version and ETag, a stale If-Match
fails alone, a failed commit fails its whole batch, and their batches serialise
with the threads' batches and other processes' on the pod's lock."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pod import PreconditionFailed
from pod.commits import GroupCommit
from pod.files import pod_lock
from tests.factories import NOW, PASSPHRASE, full_workcontext, pod_store

WRITERS = 12


def _apply(take):
    batch = take()
    for pending in batch:
        pending.result = pending.job(None, None)
    return batch


def test_loop_writers_that_arrive_during_a_commit_share_the_next_one():
    commits = GroupCommit()
    batches: list[int] = []
    inside, release = threading.Event(), threading.Event()

    def commit_batch(take):
        batches.append(len(_apply(take)))
        if len(batches) == 1:
            inside.set()
            release.wait(5)

    async def main():
        first = asyncio.ensure_future(commits.run_async("pod", lambda s, b: 0,
                                                        commit_batch))
        await asyncio.get_running_loop().run_in_executor(None, inside.wait, 5)
        rest = [asyncio.ensure_future(commits.run_async("pod", lambda s, b, n=n: n,
                                                        commit_batch))
                for n in range(1, WRITERS)]
        await asyncio.sleep(0)
        release.set()
        return await asyncio.gather(first, *rest)

    assert asyncio.run(main()) == list(range(WRITERS))
    assert batches == [1, WRITERS - 1]
    assert not commits._async_queues and not commits._async_leading


def test_a_loop_batch_whose_commit_fails_fails_every_writer_and_the_next_commits():
    commits = GroupCommit()

    def failing(take):
        take()
        raise OSError("disk full")

    async def main():
        outcomes = await asyncio.gather(
            *(commits.run_async("pod", lambda s, b: 1, failing) for _ in range(3)),
            return_exceptions=True)
        return outcomes, await commits.run_async("pod", lambda s, b: 2, _apply)

    outcomes, after = asyncio.run(main())
    assert all(isinstance(o, OSError) for o in outcomes)
    assert after == 2


@pytest.fixture
def pod(tmp_path: Path):
    store = pod_store(tmp_path / "pods")
    return store.create(PASSPHRASE, NOW)


def test_loop_writers_each_get_their_own_version_in_one_commit(pod):
    pod.save_workcontext(full_workcontext(pod.did), NOW)
    generation = pod.read_state()["generation"]
    documents = [full_workcontext(pod.did, hours_per_week=n) for n in range(WRITERS)]

    async def main():
        return await asyncio.gather(*(pod.store_version_async(d, NOW)
                                      for d in documents))

    with pod_lock(pod.directory):  # another process commits: they all queue
        runner = ThreadPoolExecutor(1).submit(asyncio.run, main())
        for _ in range(200):
            if len(pod._commits._async_queues.get(pod.pod_id, [])) == WRITERS:
                break
            threading.Event().wait(0.005)
    stored = runner.result(10)

    assert [s.version for s in stored] == list(range(2, WRITERS + 2))
    assert pod.read_state()["generation"] == generation + 1
    for document, saved in zip(documents, stored):
        assert pod.version(saved.version) == document
    assert len({s.etag for s in stored}) == WRITERS


def test_of_loop_and_thread_writers_with_one_etag_exactly_one_wins(pod):
    pod.save_workcontext(full_workcontext(pod.did), NOW)
    etag = pod.etag()
    document = full_workcontext(pod.did, hours_per_week=3)

    def in_thread():
        try:
            return pod.store_version(document, NOW, if_match=etag)
        except PreconditionFailed:
            return None

    async def main():
        loop = asyncio.get_running_loop()
        threads = [loop.run_in_executor(None, in_thread) for _ in range(4)]
        on_loop = [pod.store_version_async(document, NOW, if_match=etag)
                   for _ in range(4)]
        return await asyncio.gather(*threads, *on_loop, return_exceptions=True)

    outcomes = asyncio.run(main())
    winners = [o for o in outcomes if o is not None
               and not isinstance(o, PreconditionFailed)]
    assert len(winners) == 1
    assert all(isinstance(o, PreconditionFailed) for o in outcomes[4:]
               if o is not winners[0])
    assert [v.version for v in pod.versions()] == [1, 2]
