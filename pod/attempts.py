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

A refusal is ``TooManyAttempts`` (429 with Retry-After, RFC 6585 4). A pod's
failures are kept in ``failures``: in this process (``MemoryFailures``), or in a
SQLite file that every worker of the server shares (``SharedFailures``, what the
server uses), so that several workers give a guesser no more tries than one. It
costs a small read per sign-in and a write per failure, next to an Argon2id
derivation of a quarter second. The sign-ins under way of a client are counted
per process: behind N workers a client has up to N times ``per_client`` under
way, and behind a proxy that hides client addresses every client is one. The
back-off also lets anyone delay the sign-in of a pod whose id they know by
``longest`` seconds at a time; it is kept short for that reason.

The same count and back-off bound what one client address may create without
credentials (``creations.Creations``): pods, and the holders, grants and
withdrawals the registry takes from any pod. There each creation counts where a
failed sign-in counts here, keyed by the client address instead of a pod id, and
is checked and counted in one step (``claim``), given back when nothing was
created (``unclaim``).
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Protocol

from .errors import TooManyAttempts, UnlockFailed


@dataclass(slots=True)
class _Failures:
    count: int
    last: float
    blocked_until: float


@dataclass(frozen=True, slots=True)
class Policy:
    free_failures: int
    longest: float
    forget_after: float
    remembered: int

    def blocked_until(self, count: int, now: float) -> float:
        beyond = count - self.free_failures
        return now + min(self.longest, 2.0 ** (beyond - 1)) if beyond > 0 else now


@dataclass(frozen=True, slots=True)
class Claim:
    """What ``claim`` answered: refused, the moment the key's block ends
    (nothing counted); else the count it made and the key's (count, last,
    blocked_until) before it (None: nothing counted), for ``unclaim``."""

    blocked_until: float | None
    count: int = 0
    before: tuple[int, float, float] | None = None

    def undone(self, count: int) -> tuple[int, float | None, float | None] | None:
        """The key's (count, last, blocked_until) once this claim is given back,
        from its ``count`` now (None in the result: leave as it is; None for all:
        no count left). With no claim since this one, what it was before: a
        request that created nothing does not lengthen the back-off. After
        another claim, one less and the back-off that claim set: it stands."""
        if count == self.count:
            return self.before
        return (count - 1, None, None) if count > 1 else None


class Failures(Protocol):
    """Where a pod's failed sign-ins are counted."""

    #: the clock its times are on: a file shared by processes needs the wall clock
    clock: Callable[[], float]

    def blocked_until(self, pod_id: str, now: float, policy: Policy) -> float | None:
        ...

    def failed(self, pod_id: str, now: float, policy: Policy) -> None:
        ...

    def cleared(self, pod_id: str) -> None:
        ...


class MemoryFailures:
    """This process's count."""

    clock = staticmethod(time.monotonic)

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._failures: dict[str, _Failures] = {}

    def blocked_until(self, pod_id: str, now: float, policy: Policy) -> float | None:
        with self._guard:
            failures = self._failures.get(pod_id)
            if failures is None:
                return None
            if now - failures.last > policy.forget_after:
                del self._failures[pod_id]
                return None
            return failures.blocked_until

    def _blocked(self, key: str, now: float, policy: Policy) -> float | None:
        """When ``key``'s block ends, if it is blocked at ``now``; else None."""
        failures = self._failures.get(key)
        if failures is None or now - failures.last > policy.forget_after:
            return None
        return failures.blocked_until if now < failures.blocked_until else None

    def failed(self, pod_id: str, now: float, policy: Policy) -> None:
        with self._guard:
            self._count(pod_id, now, policy)

    def _count(self, pod_id: str, now: float, policy: Policy) -> None:
        failures = self._failures.pop(pod_id, None)
        if failures is None or now - failures.last > policy.forget_after:
            failures = _Failures(0, now, now)
        failures.count += 1
        failures.last = now
        failures.blocked_until = max(failures.blocked_until,
                                     policy.blocked_until(failures.count, now))
        self._failures[pod_id] = failures  # newest last: the oldest go first
        while len(self._failures) > policy.remembered:
            del self._failures[next(iter(self._failures))]

    def cleared(self, pod_id: str) -> None:
        with self._guard:
            self._failures.pop(pod_id, None)

    def claim(self, key: str, now: float, policy: Policy) -> Claim:
        """Count one for ``key`` unless it is blocked. One step, under the lock."""
        with self._guard:
            until = self._blocked(key, now, policy)
            if until is not None:
                return Claim(until)
            failures = self._failures.get(key)
            before = None
            if failures is not None and now - failures.last <= policy.forget_after:
                before = (failures.count, failures.last, failures.blocked_until)
            self._count(key, now, policy)
            return Claim(None, self._failures[key].count, before)

    def unclaim(self, key: str, claim: Claim) -> None:
        """Give back the count ``claim`` took (what it claimed created nothing)."""
        with self._guard:
            failures = self._failures.get(key)
            if failures is None:
                return
            after = claim.undone(failures.count)
            if after is None:
                del self._failures[key]
                return
            count, last, until = after
            failures.count = count
            if last is not None:
                failures.last = last
            if until is not None:
                failures.blocked_until = until


class SharedFailures:
    """A SQLite file that every worker process of one server opens: one count per
    pod for all of them. A connection per call, so threads and processes share
    nothing but the file; a failure is counted in one IMMEDIATE transaction."""

    clock = staticmethod(time.time)

    def __init__(self, path: Path) -> None:
        self._path = path
        with closing(self._connect()) as db:
            db.execute("CREATE TABLE IF NOT EXISTS failure (pod_id TEXT PRIMARY KEY, "
                       "count INTEGER NOT NULL, last REAL NOT NULL, "
                       "blocked_until REAL NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS failure_last ON failure (last)")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self._path, timeout=10, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def blocked_until(self, pod_id: str, now: float, policy: Policy) -> float | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT last, blocked_until FROM failure WHERE pod_id = ?",
                             (pod_id,)).fetchone()
        if row is None or now - row[0] > policy.forget_after:
            return None
        return row[1]

    def failed(self, pod_id: str, now: float, policy: Policy) -> None:
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            self._forget(db, now, policy)
            self._count(db, pod_id, now, policy)
            db.execute("COMMIT")

    def claim(self, key: str, now: float, policy: Policy) -> Claim:
        """Count one for ``key`` unless it is blocked. The read and the count are
        one IMMEDIATE transaction, which holds the file's write lock from its
        start: another worker's claim waits for it and reads what it counted."""
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            self._forget(db, now, policy)
            before = db.execute("SELECT count, last, blocked_until FROM failure "
                                "WHERE pod_id = ?", (key,)).fetchone()
            if before is not None and now < before[2]:
                db.execute("ROLLBACK")
                return Claim(before[2])
            self._count(db, key, now, policy)
            db.execute("COMMIT")
        return Claim(None, (before[0] if before else 0) + 1, before)

    def unclaim(self, key: str, claim: Claim) -> None:
        """Give back the count ``claim`` took (what it claimed created nothing)."""
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT count FROM failure WHERE pod_id = ?",
                             (key,)).fetchone()
            after = claim.undone(row[0]) if row is not None else None
            if row is not None and after is None:
                db.execute("DELETE FROM failure WHERE pod_id = ?", (key,))
            elif after is not None:
                db.execute("UPDATE failure SET count = ?, last = coalesce(?, last), "
                           "blocked_until = coalesce(?, blocked_until) "
                           "WHERE pod_id = ?", (*after, key))
            db.execute("COMMIT")

    @staticmethod
    def _forget(db: sqlite3.Connection, now: float, policy: Policy) -> None:
        db.execute("DELETE FROM failure WHERE last < ?", (now - policy.forget_after,))

    @staticmethod
    def _count(db: sqlite3.Connection, key: str, now: float, policy: Policy) -> None:
        """One more for ``key``, in the caller's transaction."""
        row = db.execute("SELECT count, blocked_until FROM failure "
                         "WHERE pod_id = ?", (key,)).fetchone()
        count = (row[0] if row else 0) + 1
        until = max(row[1] if row else now, policy.blocked_until(count, now))
        db.execute("INSERT OR REPLACE INTO failure VALUES (?, ?, ?, ?)",
                   (key, count, now, until))
        db.execute("DELETE FROM failure WHERE pod_id IN (SELECT pod_id FROM "
                   "failure ORDER BY last DESC LIMIT -1 OFFSET ?)",
                   (policy.remembered,))

    def cleared(self, pod_id: str) -> None:
        with closing(self._connect()) as db:
            db.execute("DELETE FROM failure WHERE pod_id = ?", (pod_id,))


class Attempts:
    def __init__(self, per_client: int = 2, free_failures: int = 5,
                 longest: float = 60.0, forget_after: float = 900.0,
                 remembered: int = 10_000,
                 clock: Callable[[], float] | None = None,
                 failures: Failures | None = None):
        self.per_client = per_client
        self.policy = Policy(free_failures, longest, forget_after, remembered)
        self._failures = failures or MemoryFailures()
        self._clock = clock or self._failures.clock
        self._guard = threading.Lock()
        self._in_flight: dict[str, int] = {}

    @property
    def free_failures(self) -> int:
        return self.policy.free_failures

    @contextmanager
    def attempt(self, client: str | None, pod_id: str) -> Iterator[None]:
        """One sign-in of ``pod_id`` by ``client`` (None: no address, as on the
        command line); UnlockFailed inside it counts as a failure."""
        self._check_pod(pod_id, self._clock())
        with self._guard:
            self._enter(client)
        try:
            yield
        except UnlockFailed:
            self._failures.failed(pod_id, self._clock(), self.policy)
            raise
        else:
            self._failures.cleared(pod_id)
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
        until = self._failures.blocked_until(pod_id, now, self.policy)
        if until is not None and now < until:
            raise TooManyAttempts(math.ceil(until - now))

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
