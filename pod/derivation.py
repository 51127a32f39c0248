"""The one way the server derives a key from a passphrase.

Argon2id is memory-hard by design: one derivation at the moderate level takes
256 MiB, libsodium's sensitive level 1 GiB. Costs come from outside the process
(the parameters stored with a pod, an uploaded archive), so every derivation passes
here, and this bounds both what one derivation may cost and how many run at once:

- *cost*: the level new keys are made at (the operator's setting);
- *ceiling*: the highest cost accepted at all: the moderate level, or the configured
  cost if that is higher. Parameters above it are refused before any work, so an
  anonymous upload can not ask for a gibibyte;
- *concurrent*: derivations in the process at one time; the rest wait their turn.

At most ``concurrent`` times the ceiling's memory is in use for derivations.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from . import crypto


class KeyDerivation:
    def __init__(self, cost: tuple[int, int], concurrent: int = 2):
        crypto.check_cost(*cost)
        self.cost = cost
        self.ceiling = (max(cost[0], crypto.MODERATE[0]),
                        max(cost[1], crypto.MODERATE[1]))
        self._slots = threading.BoundedSemaphore(concurrent)

    def accepts(self, opslimit: object, memlimit: object) -> bool:
        """Whether a derivation at this cost would run here."""
        return all(isinstance(value, int) and not isinstance(value, bool)
                   and low <= value <= high
                   for value, low, high in (
                       (opslimit, crypto.MIN_OPSLIMIT, self.ceiling[0]),
                       (memlimit, crypto.MIN_MEMLIMIT, self.ceiling[1])))

    def derive(self, passphrase: str, salt: bytes, opslimit: int,
               memlimit: int) -> bytes:
        """Argon2id at a given cost; ValueError for a cost above the ceiling."""
        if not self.accepts(opslimit, memlimit):
            raise ValueError("Argon2id cost is outside what this server accepts")
        with self.slot():
            return crypto.derive_key(passphrase, salt, opslimit, memlimit)

    def derive_new(self, passphrase: str, salt: bytes) -> bytes:
        """Argon2id at the configured cost, for a key made now."""
        return self.derive(passphrase, salt, *self.cost)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the derivation slots."""
        with self._slots:
            yield
