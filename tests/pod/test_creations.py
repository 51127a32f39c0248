"""The creation bound of a client address: the check and the count are one step,
so requests under way when a client reaches the bound do not get past it, in
threads of one worker or in workers sharing the count's file."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import pytest

from pod import Creations, TooManyCreated
from pod.attempts import SharedFailures

FREE = 3
# With the clock standing still, what goes at once: the free ones and the one
# after them, which makes the next wait (pod/creations.py).
AT_ONCE = FREE + 1
NOW = 1000.0


def creations(path: Path | None = None) -> Creations:
    counts = SharedFailures(path) if path is not None else None
    return Creations(free=FREE, counts=counts, clock=lambda: NOW)


def try_create(bound: Creations, client: str, started: threading.Barrier | None,
               inside: threading.Event | None = None) -> bool:
    """One creation of ``client``; True when it was let through. ``inside`` is
    waited for while the creation is under way, so every creation overlaps."""
    if started is not None:
        started.wait()
    try:
        with bound.creating(client):
            if inside is not None:
                inside.wait(5)
            return True
    except TooManyCreated:
        return False


def test_creations_under_way_at_the_bound_are_refused():
    bound = creations()
    held = [bound.creating("10.0.0.1") for _ in range(AT_ONCE)]
    for creation in held:
        creation.__enter__()

    with pytest.raises(TooManyCreated) as refused:
        with bound.creating("10.0.0.1"):
            pass
    for creation in held:
        creation.__exit__(None, None, None)

    assert refused.value.response_headers["Retry-After"] == "1"


def test_a_creation_that_failed_or_created_nothing_does_not_count():
    bound = creations()
    with pytest.raises(ValueError):
        with bound.creating("10.0.0.1"):
            raise ValueError("refused")
    for _ in range(AT_ONCE):
        with bound.creating("10.0.0.1") as creation:
            creation.created = False

    admitted = [try_create(bound, "10.0.0.1", None) for _ in range(AT_ONCE + 2)]

    assert admitted == [True] * AT_ONCE + [False] * 2


def test_a_client_without_an_address_is_not_counted():
    bound = creations()
    assert all(try_create(bound, None, None) for _ in range(3 * AT_ONCE))


@pytest.mark.parametrize("shared", [False, True], ids=["memory", "file"])
def test_threads_creating_at_once_get_no_more_through_than_the_bound(
        shared: bool, tmp_path: Path):
    bound = creations(tmp_path / "creations.sqlite" if shared else None)
    threads = 12
    started, inside = threading.Barrier(threads), threading.Event()
    results: list[bool] = []

    def one() -> None:
        results.append(try_create(bound, "10.0.0.1", started, inside))

    workers = [threading.Thread(target=one) for _ in range(threads)]
    for worker in workers:
        worker.start()
    while len(results) < threads - AT_ONCE:  # the refused ones answer at once
        threading.Event().wait(0.01)
    inside.set()
    for worker in workers:
        worker.join()

    assert sum(results) == AT_ONCE


def _worker(path: str, start, admitted, tries: int) -> None:
    bound = creations(Path(path))
    start.wait()
    for _ in range(tries):
        if try_create(bound, "10.0.0.1", None):
            with admitted.get_lock():
                admitted.value += 1


def test_two_worker_processes_sharing_the_file_get_no_more_through_than_the_bound(
        tmp_path: Path):
    path = tmp_path / "creations.sqlite"
    creations(path)  # the file and its table, before the workers race for them
    context = multiprocessing.get_context("spawn")
    start, admitted = context.Event(), context.Value("i", 0)
    workers = [context.Process(target=_worker, args=(str(path), start, admitted, 20))
               for _ in range(2)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(60)

    assert [w.exitcode for w in workers] == [0, 0]
    assert admitted.value == AT_ONCE


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("shared", [False, True], ids=["memory", "file"])
def test_a_request_that_creates_nothing_leaves_the_back_off_as_it_was(
        shared: bool, tmp_path: Path):
    clock = Clock()
    counts = SharedFailures(tmp_path / "creations.sqlite") if shared else None
    bound = Creations(free=1, counts=counts, clock=clock)
    for _ in range(2):
        assert try_create(bound, "10.0.0.1", None)
    assert not try_create(bound, "10.0.0.1", None)  # waits a second
    clock.now += 2

    with bound.creating("10.0.0.1") as creation:
        creation.created = False  # a grant published again

    assert try_create(bound, "10.0.0.1", None)
    assert not try_create(bound, "10.0.0.1", None)
