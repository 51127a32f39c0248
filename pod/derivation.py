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

An unlock that must fail without a key to derive (no pod of that id) imitates a
derivation instead (``imitate``): it waits for a place as a derivation does, and
then, without holding it, as long as derivations at the configured cost have
taken lately. The answer comes in the same time class as a wrong passphrase's,
and made-up ids cost neither memory nor a place in the queue.

A passphrase is derived from in Unicode normalisation form C (UAX #15): "é" typed
as one code point or as "e" with a combining accent, as keyboards and operating
systems differ, is one passphrase. Keys made before that were derived from the raw
bytes; the parameters stored with a key say which (``normalise``), and a key
without it is derived from the passphrase exactly as given.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from contextlib import contextmanager
from typing import Iterator

from . import crypto

# The form new keys are derived from, as recorded with them.
NORMALISATION = "NFC"


class KeyDerivation:
    def __init__(self, cost: tuple[int, int], concurrent: int = 2):
        crypto.check_cost(*cost)
        self.cost = cost
        self.ceiling = (max(cost[0], crypto.MODERATE[0]),
                        max(cost[1], crypto.MODERATE[1]))
        self._slots = threading.BoundedSemaphore(concurrent)
        self._typical: float | None = None  # seconds, at ``cost``, lately

    def accepts(self, opslimit: object, memlimit: object) -> bool:
        """Whether a derivation at this cost would run here."""
        return all(isinstance(value, int) and not isinstance(value, bool)
                   and low <= value <= high
                   for value, low, high in (
                       (opslimit, crypto.MIN_OPSLIMIT, self.ceiling[0]),
                       (memlimit, crypto.MIN_MEMLIMIT, self.ceiling[1])))

    def derive(self, passphrase: str, salt: bytes, opslimit: int, memlimit: int,
               normalise: object = None) -> bytes:
        """Argon2id at a given cost, of the passphrase in the form ``normalise``
        names (None: as given, for keys made before normalisation); ValueError for
        a cost above the ceiling or a form this server does not know."""
        if not self.accepts(opslimit, memlimit):
            raise ValueError("Argon2id cost is outside what this server accepts")
        if normalise is not None:
            passphrase = normalised(passphrase, normalise)
        with self.slot():
            started = time.perf_counter()
            key = crypto.derive_key(passphrase, salt, opslimit, memlimit)
            if (opslimit, memlimit) == self.cost:
                self._measured(time.perf_counter() - started)
        return key

    def imitate(self, passphrase: str, salt: bytes) -> None:
        """Take the time of a derivation at the configured cost without doing one
        (see above); the first one in a process derives, to measure."""
        typical = self._typical
        if typical is None:
            self.derive(passphrase, salt, *self.cost)
            return
        with self.slot():
            pass
        time.sleep(typical)

    def _measured(self, seconds: float) -> None:
        """A moving average, so the imitation follows the machine's load."""
        typical = self._typical
        self._typical = seconds if typical is None else 0.8 * typical + 0.2 * seconds

    def derive_new(self, passphrase: str, salt: bytes) -> bytes:
        """Argon2id at the configured cost in ``NORMALISATION``, for a key made now."""
        return self.derive(passphrase, salt, *self.cost, normalise=NORMALISATION)

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the derivation slots."""
        with self._slots:
            yield


def characters(passphrase: str) -> list[str]:
    """The characters of ``passphrase`` as a reader counts them, in the form keys
    are derived from: a base character with its combining marks is one (an
    approximation of UAX #29's grapheme clusters that needs no table beyond
    unicodedata); a mark with no base before it counts on its own."""
    clusters: list[str] = []
    for char in unicodedata.normalize(NORMALISATION, passphrase):
        if clusters and unicodedata.combining(char):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def normalised(passphrase: str, form: object) -> str:
    """``passphrase`` in the normalisation form ``form`` (only NFC is written)."""
    if form != NORMALISATION:
        raise ValueError("unknown passphrase normalisation")
    return unicodedata.normalize(NORMALISATION, passphrase)
