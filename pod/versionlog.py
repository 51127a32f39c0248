"""The version log: the ciphertext of every Workcontext version, appended to one file.

A new file per commit costs an inode and a directory entry, metadata that the file
system journals before an fsync returns. The log is extended ahead of use with
zeros, so a commit's append overwrites bytes that exist already, and its flush
(``fdatasync``, in the same round as the state slot, slots.py) carries data only::

    versions/log.bin    ciphertext | ciphertext | ... | zeros up to the file's end

The state names where the committed log ends (``logEnd``); bytes after it are zeros
or what an interrupted commit left, and the next commit writes over them. Each
manifest entry names its version's offset and length in the log and its digest.
The two files' flushes are not ordered, so a commit's state also names the range it
appended and that range's digest (``logTail``): a state whose range does not hash to
it, after a crash, is not taken, and the previous one is (holder.py).
"""

from __future__ import annotations

import os
from pathlib import Path

from . import crypto
from .errors import DecryptionFailed
from .files import fsync_dir

NAME = "log.bin"
MIN_GROWTH = 64 * 1024
MAX_GROWTH = 4 * 1024 * 1024


class VersionLog:
    """An append-only file of sealed records under ``versions/``: the version log,
    or (``name``) the history index of history.py, which works the same way."""

    def __init__(self, directory: Path, name: str = NAME, *, path: Path | None = None):
        """``path``: the file itself, when the caller has it at hand already."""
        self.path = directory / "versions" / name if path is None else path

    def append(self, end: int, data: bytes) -> int:
        """Write ``data`` at ``end`` (caller holds the pod lock) and return the open
        file, which the caller flushes with the state and then closes."""
        fd = self._open()
        try:
            size = os.fstat(fd).st_size
            if end + len(data) > size:
                grown = max(end + len(data), size + min(max(size, MIN_GROWTH),
                                                        MAX_GROWTH))
                os.pwrite(fd, bytes(grown - size), size)
            os.pwrite(fd, data, end)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def read(self, offset: int, length: int) -> bytes:
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError as exc:
            raise DecryptionFailed() from exc
        try:
            data = os.pread(fd, length, offset)
        finally:
            os.close(fd)
        if len(data) != length:
            raise DecryptionFailed()
        return data

    def check(self, start: int, end: int, digest: str) -> None:
        """DecryptionFailed unless ``[start, end)`` hashes to ``digest``."""
        if not (0 <= start <= end) or crypto.digest(self.read(start, end - start)) \
                != digest:
            raise DecryptionFailed()

    def _open(self) -> int:
        try:
            return os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            fsync_dir(self.path.parent)  # its name is on disk before a state names it
            return fd
