"""Limits on sign-in attempts, so that guesses can not take the key derivation's
few places from everyone else.

Every unlock costs an Argon2id derivation (derivation.py), and a sign-in needs no
account. Two limits keep one client from holding up every holder:

- *per client*: at most ``per_client`` sign-ins of one client address waiting or
  deriving at once; one more is refused at once, before any derivation;
- *per pod*: after ``free_failures`` failed sign-ins of one pod (named by its pod
  id, whether a pod of that id exists or not, so the answer says nothing of it)
  each further attempt waits a back-off that doubles up to ``longest`` seconds;
  a success or ``forget_after`` seconds without a failure start it over.

A refusal is ``TooManyAttempts`` (429 with Retry-After, RFC 6585 4). The counts
live in this process only: behind several workers each one counts on its own, so
the limits are per worker, and behind a proxy that hides client addresses every
client is one; a shared store (the registry's database) can take them over when
that matters. The back-off also lets anyone delay the sign-in of a pod whose id
they know by ``longest`` seconds at a time; it is kept short for that reason.
"""

from __future__ import annotations

import math
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

from .errors import TooManyAttempts, UnlockFailed


@dataclass(slots=True)
class _Failures:
    count: int
    last: float
    blocked_until: float


class Attempts:
    def __init__(self, per_client: int = 2, free_failures: int = 5,
                 longest: float = 60.0, forget_after: float = 900.0,
                 remembered: int = 10_000,
                 clock: Callable[[], float] = time.monotonic):
        self.per_client = per_client
        self.free_failures = free_failures
        self.longest = longest
        self.forget_after = forget_after
        self.remembered = remembered
        self._clock = clock
        self._guard = threading.Lock()
        self._in_flight: dict[str, int] = {}
        self._failures: dict[str, _Failures] = {}

    @contextmanager
    def attempt(self, client: str | None, pod_id: str) -> Iterator[None]:
        """One sign-in of ``pod_id`` by ``client`` (None: no address, as on the
        command line); UnlockFailed inside it counts as a failure."""
        with self._guard:
            self._check_pod(pod_id, self._clock())
            self._enter(client)
        try:
            yield
        except UnlockFailed:
            self._failed(pod_id)
            raise
        else:
            with self._guard:
                self._failures.pop(pod_id, None)
        finally:
            self._leave(client)

    @contextmanager
    def client_slot(self, client: str | None) -> Iterator[None]:
        """A derivation of ``client`` that names no pod (a new pod)."""
        with self._guard:
            self._enter(client)
        try:
            yield
        finally:
            self._leave(client)

    def _check_pod(self, pod_id: str, now: float) -> None:
        failures = self._failures.get(pod_id)
        if failures is None:
            return
        if now - failures.last > self.forget_after:
            del self._failures[pod_id]
        elif now < failures.blocked_until:
            raise TooManyAttempts(math.ceil(failures.blocked_until - now))

    def _enter(self, client: str | None) -> None:
        if client is None:
            return
        waiting = self._in_flight.get(client, 0)
        if waiting >= self.per_client:
            raise TooManyAttempts(1)
        self._in_flight[client] = waiting + 1

    def _leave(self, client: str | None) -> None:
        if client is None:
            return
        with self._guard:
            left = self._in_flight.get(client, 1) - 1
            if left > 0:
                self._in_flight[client] = left
            else:
                self._in_flight.pop(client, None)

    def _failed(self, pod_id: str) -> None:
        now = self._clock()
        with self._guard:
            failures = self._failures.pop(pod_id, None) or _Failures(0, now, now)
            failures.count += 1
            failures.last = now
            beyond = failures.count - self.free_failures
            if beyond > 0:
                failures.blocked_until = now + min(self.longest, 2.0 ** (beyond - 1))
            self._failures[pod_id] = failures  # newest last: the oldest go first
            while len(self._failures) > self.remembered:
                del self._failures[next(iter(self._failures))]
