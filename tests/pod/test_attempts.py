"""Sign-in limits: a client has a few sign-ins under way at once, and a pod that
failed too often waits a back-off, whether or not a pod of that id exists."""

from __future__ import annotations

import pytest

from pod import TooManyAttempts, UnlockFailed
from pod.attempts import Attempts


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(attempts: Attempts, pod_id: str, client: str | None = "10.0.0.1") -> None:
    with pytest.raises(UnlockFailed):
        with attempts.attempt(client, pod_id):
            raise UnlockFailed()


def admitted(attempts: Attempts, client: str | None, pod: str) -> bool:
    """Whether ``attempts`` lets this sign-in start (False: refused)."""
    try:
        with attempts.attempt(client, pod):
            return True
    except TooManyAttempts:
        return False


def test_a_client_beyond_its_sign_ins_under_way_is_refused_and_others_are_not():
    attempts = Attempts(per_client=2)

    with attempts.attempt("10.0.0.1", "a" * 32), attempts.attempt("10.0.0.1", "b" * 32):
        with pytest.raises(TooManyAttempts) as refused:
            with attempts.attempt("10.0.0.1", "c" * 32):
                pass
        assert admitted(attempts, "10.0.0.2", "c" * 32)

    assert refused.value.response_headers == {"Retry-After": "1"}
    assert admitted(attempts, "10.0.0.1", "c" * 32)  # the places are free again


def test_a_pod_failed_too_often_waits_a_back_off_that_doubles():
    clock = Clock()
    attempts = Attempts(free_failures=3, longest=60, clock=clock)
    for _ in range(3):
        fail(attempts, "a" * 32)

    fail(attempts, "a" * 32)
    with pytest.raises(TooManyAttempts) as first:
        with attempts.attempt("10.0.0.9", "a" * 32):
            pass
    clock.now += 1
    fail(attempts, "a" * 32)
    with pytest.raises(TooManyAttempts) as second:
        with attempts.attempt(None, "a" * 32):
            pass

    assert (first.value.retry_after, second.value.retry_after) == (1, 2)
    assert admitted(attempts, "10.0.0.1", "b" * 32)  # another pod is not held up


def test_the_back_off_is_capped_and_a_success_starts_over():
    clock = Clock()
    attempts = Attempts(free_failures=0, longest=5, clock=clock)
    for _ in range(10):
        fail(attempts, "a" * 32)
        clock.now += 5

    fail(attempts, "a" * 32)
    with pytest.raises(TooManyAttempts) as capped:
        with attempts.attempt(None, "a" * 32):
            pass
    clock.now += 5
    with attempts.attempt(None, "a" * 32):
        pass
    fail(attempts, "a" * 32)

    assert capped.value.retry_after == 5
    with pytest.raises(TooManyAttempts) as after_success:
        with attempts.attempt(None, "a" * 32):
            pass
    assert after_success.value.retry_after == 1


def test_failures_are_forgotten_after_a_quiet_while_and_kept_bounded():
    clock = Clock()
    attempts = Attempts(free_failures=0, forget_after=60, remembered=2, clock=clock)
    fail(attempts, "a" * 32)
    clock.now += 61

    with attempts.attempt(None, "a" * 32):
        pass
    for pod_id in ("b" * 32, "c" * 32, "d" * 32):
        fail(attempts, pod_id)
    assert len(attempts._failures._failures) == 2


def test_two_workers_sharing_a_failure_file_count_a_pods_failures_together(tmp_path):
    from pod.attempts import SharedFailures

    clock = Clock()
    path = tmp_path / "attempts.sqlite"
    one = Attempts(free_failures=4, clock=clock, failures=SharedFailures(path))
    two = Attempts(free_failures=4, clock=clock, failures=SharedFailures(path))

    for worker in (one, two, one, two):
        fail(worker, "a" * 32)
    fail(one, "a" * 32)  # the fifth failure, whichever worker saw it

    assert not admitted(two, "10.0.0.2", "a" * 32)
    assert not admitted(one, "10.0.0.2", "a" * 32)
    assert admitted(two, "10.0.0.2", "b" * 32)
    clock.now += 2
    assert admitted(two, "10.0.0.2", "a" * 32)  # a success starts it over
    fail(one, "a" * 32)
    assert admitted(two, "10.0.0.2", "a" * 32)


def test_a_shared_failure_file_forgets_after_a_quiet_while(tmp_path):
    from pod.attempts import SharedFailures

    clock = Clock()
    attempts = Attempts(free_failures=1, forget_after=60, clock=clock,
                        failures=SharedFailures(tmp_path / "attempts.sqlite"))
    fail(attempts, "a" * 32)
    fail(attempts, "a" * 32)
    assert not admitted(attempts, None, "a" * 32)

    clock.now += 61

    assert admitted(attempts, None, "a" * 32)
