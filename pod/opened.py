"""The keys of pods opened for a live holder session, kept in memory until the
session ends, so that each request of the session does not unwrap them again.

Opening a pod with a session's passkey reads ``pod.json`` and the keyring's shard
file and unwraps the keys: a pure function of those two files' bytes and the
passkey. An entry keeps the bytes it was opened from, and is used only while both
files read the same bytes now and the passkey is the same: whatever changes the keys
on disk (a new passphrase, a re-wrap at a raised cost, an erasure, a pod created
again under the same identity) changes those bytes, in this process or in another
worker's, so a stale entry is never used; the files on disk stay the truth. Only
keys opened with the current wrapping are kept, never those of ``previous``, whose
grace ends with time.

An entry is dropped at once when its session's expiry passes (checked on every use),
when this process signs the session out, changes the passphrase or erases the pod,
and when it is found stale. Another worker's entry of a signed-out session or an
erased pod opens nothing there (the token is refused, the files differ) and is
dropped by ``forget_stale``, which the application runs every minute. Dropping
overwrites the keys the entry holds. At most ``capacity`` entries are kept (one per
pod); the oldest goes first.
"""

from __future__ import annotations

import hmac
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

CAPACITY = 1024


@dataclass(repr=False)  # no keys in a log line or a traceback
class OpenedKeys:
    """What an open needs again, and the bytes it was opened from."""

    passkey: bytearray
    seed: bytearray
    kek: bytearray
    shard: bytearray
    shard_digest: str
    meta_file: bytes
    shard_file: bytearray
    until: float

    def matches(self, passkey: bytes, meta_file: bytes, shard_file: bytes,
                now: datetime) -> bool:
        return (now.timestamp() < self.until and meta_file == self.meta_file
                and shard_file == self.shard_file
                and hmac.compare_digest(passkey, self.passkey))

    def wipe(self) -> None:
        for secret in (self.passkey, self.seed, self.kek, self.shard,
                       self.shard_file):
            secret[:] = bytes(len(secret))
            secret.clear()


class OpenedPods:
    """The keys of each pod opened for a session: one entry per pod identity."""

    def __init__(self, capacity: int = CAPACITY):
        self._capacity = capacity
        self._entries: dict[str, OpenedKeys] = {}
        self._guard = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def find(self, did: str, passkey: bytes, meta_file: bytes, shard_file: bytes,
             now: datetime) -> tuple[bytes, bytes, bytes, str] | None:
        """The seed, KEK, shard and the shard's digest of the entry opened from
        these very bytes with this passkey, still live; copies, as the entry may be
        wiped once this returns. A live entry of another passkey stays (another
        session may use it); an expired or stale one is dropped."""
        with self._guard:
            entry = self._entries.get(did)
            if entry is None:
                return None
            if entry.matches(passkey, meta_file, shard_file, now):
                return (bytes(entry.seed), bytes(entry.kek), bytes(entry.shard),
                        entry.shard_digest)
            if now.timestamp() >= entry.until or meta_file != entry.meta_file \
                    or shard_file != entry.shard_file:
                self._drop(did)
            return None

    def keep(self, did: str, entry: OpenedKeys, now: datetime) -> None:
        with self._guard:
            self._drop(did)
            for other in [d for d, e in self._entries.items()
                          if now.timestamp() >= e.until]:
                self._drop(other)
            while len(self._entries) >= self._capacity:
                self._drop(next(iter(self._entries)))
            self._entries[did] = entry

    def forget(self, did: str) -> None:
        """Drop the pod's keys now: its session ended, or its keys changed."""
        with self._guard:
            self._drop(did)

    def forget_stale(self, now: datetime,
                     files: Callable[[str], tuple[bytes, bytes] | None]) -> int:
        """Drop every entry whose session has expired or whose files (``files``:
        the two files' bytes now, None when either is gone) changed; returns how
        many went."""
        with self._guard:
            kept = dict(self._entries)
            seen = {did: (entry.meta_file, bytes(entry.shard_file))
                    for did, entry in kept.items()}
        stale = [did for did, entry in kept.items()
                 if now.timestamp() >= entry.until or files(did) != seen[did]]
        with self._guard:
            for did in stale:
                if self._entries.get(did) is kept[did]:  # not replaced meanwhile
                    self._drop(did)
        return len(stale)

    def _drop(self, did: str) -> None:
        entry = self._entries.pop(did, None)
        if entry is not None:
            entry.wipe()
