"""The port through which sealed messages leave the registry for a holder's pod.

The registry hands over ciphertext only: a libsodium sealed box that just the holder
can open. ``FileDropInbox`` writes each message atomically into a directory per holder
(named by a hash of the did, so no identifier appears in a path), where the pod's
inbox collects it; ``MemoryInbox`` is the fake for tests.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from pathlib import Path
from typing import Protocol

from .errors import StorageFailed

MAX_SEALED_BYTES = 64 * 1024


class InboxDelivery(Protocol):
    def deliver(self, holder_did: str, sealed: bytes, origin: str = "") -> None:
        """``origin`` says whom the message comes from (a rater's pseudonym), so the
        pod can bound how many messages one origin leaves; it is not shown."""


class MemoryInbox:
    def __init__(self) -> None:
        self.messages: dict[str, list[bytes]] = {}
        self.origins: dict[str, list[str]] = {}

    def deliver(self, holder_did: str, sealed: bytes, origin: str = "") -> None:
        self.messages.setdefault(holder_did, []).append(bytes(sealed))
        self.origins.setdefault(holder_did, []).append(origin)


class FileDropInbox:
    def __init__(self, root: Path):
        self.root = root

    def directory(self, holder_did: str) -> Path:
        return self.root / hashlib.sha256(holder_did.encode("utf-8")).hexdigest()[:32]

    def deliver(self, holder_did: str, sealed: bytes, origin: str = "") -> None:
        """A random file name: the time a rating was sent is inside the sealed
        message, so the file system shows neither sender nor order."""
        if len(sealed) > MAX_SEALED_BYTES:
            raise ValueError("a sealed message must be at most 64 KiB")
        target = self.directory(holder_did)
        name = f"{secrets.token_hex(16)}.sealed"
        try:
            _atomic_write(target / name, sealed)
        except OSError as exc:
            raise StorageFailed() from exc


def _atomic_write(path: Path, data: bytes) -> None:
    """Temporary file in the same directory, fsync, rename, fsync the directory: a
    reader sees the whole message or none of it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
