"""What one client address may create without credentials: a pod, or in the
registry a holder, a grant or a withdrawal that a fresh did:key signed (a did:key
costs nothing to make, so its signature bounds nothing).

The first ``free`` creations of a client go at once; after them each one makes
the next wait a back-off that doubles up to ``longest`` seconds, and
``forget_after`` seconds without a creation start it over: a pod's failed
sign-ins (``attempts.Policy``), counted per client address. A client without an
address (the command line, a pod in this process) is not counted.

A creation is checked and counted in one step before anything is written
(``creating``), and the count is given back when the creation fails or creates
nothing, leaving the back-off as it was. Checked before and counted after, every
request of a client already under way when it reached the bound got through: as
many more as the server has request threads, times its workers. Counted first, a
request refused while another one's creation is under way may have been refused
for a creation that then did not happen; the bound errs on the side of refusing.
Kept in a ``SharedFailures`` file, every worker of a server counts a client once.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Protocol

from .attempts import Claim, MemoryFailures, Policy
from .errors import TooManyCreated


class Counts(Protocol):
    """Where each client's creations are counted (``attempts.MemoryFailures``,
    ``attempts.SharedFailures``)."""

    #: the clock its times are on: a file shared by processes needs the wall clock
    clock: Callable[[], float]

    def claim(self, key: str, now: float, policy: Policy) -> Claim:
        ...

    def unclaim(self, key: str, claim: Claim) -> None:
        ...


@dataclass(slots=True)
class Creation:
    """One creation under way; set ``created`` to False when the request ends
    without creating anything (a grant published again), so it does not count."""

    created: bool = True


class Creations:
    def __init__(self, free: int = 20, longest: float = 300.0,
                 forget_after: float = 3600.0, remembered: int = 10_000,
                 counts: Counts | None = None,
                 clock: Callable[[], float] | None = None):
        self.policy = Policy(free, longest, forget_after, remembered)
        self._counts = counts or MemoryFailures()
        self._clock = clock or self._counts.clock

    @contextmanager
    def creating(self, client: str | None) -> Iterator[Creation]:
        """One creation of ``client``: counted on entry, or refused with
        TooManyCreated (429, Retry-After) before anything is written; given back
        when the block raises or leaves ``created`` False."""
        creation = Creation()
        if client is None:
            yield creation
            return
        now = self._clock()
        claim = self._counts.claim(client, now, self.policy)
        if claim.blocked_until is not None:
            raise TooManyCreated(math.ceil(claim.blocked_until - now))
        try:
            yield creation
        except BaseException:
            self._counts.unclaim(client, claim)
            raise
        if not creation.created:
            self._counts.unclaim(client, claim)
