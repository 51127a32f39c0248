"""Binary resources (an intro video, documents), encrypted in chunks as they stream.

A binary is one file ``binaries/<file id>.bin`` under a random file id that is never
reused::

    MAGIC | wrapped data key (72) | nonce prefix (16) | chunk 0 | chunk 1 | ...

Every chunk but the last holds ``CHUNK`` bytes of plaintext plus a 16-byte tag; the
chunk's nonce is the prefix and its index, its associated data names the pod, the
file id, the index and whether it is the last chunk (crypto.py). A reordered, dropped
or truncated chunk therefore fails, and any byte range decrypts only the chunks it
touches. The manifest (state.bin) maps the name to the file id, size and media type:
the binary is committed when the manifest is, and an older file can never stand in
for a newer one because its id (and so its associated data) differs.

Memory stays constant: at most one chunk of plaintext and one of ciphertext at a time.
An upload in progress writes ``.upload-*`` in the binaries folder; one abandoned by a
killed process is removed by the next writer once it is older than ``STALE_UPLOAD``.

An upload keeps its ``.upload-*`` name until the writer holds the pod's lock: only
then is it renamed to ``<file id>.bin`` and the manifest committed. A ``.bin`` file
that the manifest does not name is therefore one the manifest dropped (replaced,
deleted) or one a crash left between the rename and the commit, never one whose
upload is still waiting for the lock, and the writer holding the lock removes it.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator

from consent import format_time

from . import crypto, envelope
from .errors import (
    BinaryNotFound,
    DecryptionFailed,
    InvalidName,
    PreconditionFailed,
    RangeNotSatisfiable,
    StorageQuotaReached,
)
from .errors import MAX_NAME
from .files import fsync_dir
from .holder import UnlockedPod
from .limits import MAX_BINARY_TOTAL, binary_room

MAGIC = b"VGB1"
CHUNK = 64 * 1024
SEALED_CHUNK = CHUNK + crypto.CHUNK_OVERHEAD
_WRAPPED = crypto.KEY_BYTES + crypto.SEALED_OVERHEAD
HEADER = len(MAGIC) + _WRAPPED + crypto.CHUNK_PREFIX_BYTES
UPLOAD_PREFIX = ".upload-"
STALE_UPLOAD = 6 * 3600
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_.")


@dataclass(frozen=True, slots=True)
class BinaryInfo:
    name: str
    file: str
    size: int
    media_type: str
    saved: str

    @property
    def etag(self) -> str:
        return f'"{self.file[:16]}"'


def check_name(name: str) -> str:
    """Strict names: no separators, no dots in front, no upper case, no escapes, so
    no spelling of a name reaches another file or another pod (RFC 3986 6.2.2)."""
    if (not isinstance(name, str) or not 0 < len(name) <= MAX_NAME
            or name.startswith(".") or not set(name) <= _NAME_CHARS):
        raise InvalidName(str(name)[:MAX_NAME])
    return name


def binaries(pod: UnlockedPod) -> list[BinaryInfo]:
    entries = pod.read_state().get("binaries", {})
    return [_info(name, entry) for name, entry in sorted(entries.items())]


def binary(pod: UnlockedPod, name: str) -> BinaryInfo:
    entry = pod.read_state().get("binaries", {}).get(check_name(name))
    if entry is None:
        raise BinaryNotFound(name)
    return _info(name, entry)


def _info(name: str, entry: dict) -> BinaryInfo:
    return BinaryInfo(name, entry["file"], entry["size"], entry["type"], entry["saved"])


class BinaryWriter:
    """Encrypts a stream into an upload file; ``commit`` makes it the named binary."""

    def __init__(self, pod: UnlockedPod, name: str, media_type: str):
        self._pod = pod
        self.name = check_name(name)
        self.media_type = media_type
        self.file = secrets.token_hex(16)
        self.size = 0
        self._index = 0
        self._pending = bytearray()
        self._ad = envelope.associated(pod.did, "binary", self.file)
        self._dek = crypto.random_key()
        self._prefix = crypto.random_chunk_prefix()
        self._room = binary_room(pod.read_state().get("binaries", {}), self.name)
        self._dir = pod.directory / "binaries"
        self._dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=UPLOAD_PREFIX, dir=self._dir)
        self._tmp = Path(tmp)
        self._handle = os.fdopen(fd, "wb")
        wrapped = envelope.wrap_key(pod.key_material()[1], self._ad, self._dek)
        self._handle.write(MAGIC + wrapped + self._prefix)

    def write(self, data: bytes) -> None:
        """Take the next piece; chunks are sealed once it is known they are not last."""
        self.size += len(data)
        if self.size > self._room:
            raise StorageQuotaReached(MAX_BINARY_TOTAL, "bytes of files")
        self._pending += data
        while len(self._pending) > CHUNK:
            self._seal(bytes(self._pending[:CHUNK]), final=False)
            del self._pending[:CHUNK]

    def commit(self, now: datetime, if_match: str | None = None) -> BinaryInfo:
        self._finish()
        try:
            return self._record(now, if_match)
        except BaseException:
            self.abort()
            raise

    def finish_unrecorded(self, saved: str) -> dict:
        """Make the upload durable but leave it out of the manifest; returns the
        manifest entry for a caller that commits several things at once (an
        import). That caller calls ``place`` under the pod's lock, just before the
        commit that names the file."""
        self._finish()
        return {"file": self.file, "size": self.size, "type": self.media_type,
                "saved": saved}

    def place(self) -> None:
        """Give the finished upload its stored name; the caller holds the pod's
        lock and commits a manifest naming it next (see the module docstring)."""
        target = self._dir / f"{self.file}.bin"
        os.replace(self._tmp, target)
        self._tmp = target
        fsync_dir(self._dir)

    def _finish(self) -> None:
        self._seal(bytes(self._pending), final=True)
        self._pending.clear()
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()

    def abort(self) -> None:
        if not self._handle.closed:
            self._handle.close()
        self._tmp.unlink(missing_ok=True)

    def _seal(self, chunk: bytes, final: bool) -> None:
        self._handle.write(crypto.seal_chunk(self._dek, self._prefix, self._index,
                                             final, chunk, self._ad))
        self._index += 1

    def _record(self, now: datetime, if_match: str | None) -> BinaryInfo:
        with self._pod.write_locked():
            state = self._pod.read_state()
            entries = state.setdefault("binaries", {})
            old = entries.get(self.name)
            _check_precondition(self.name, old, if_match)
            if self.size > binary_room(entries, self.name):  # a concurrent upload won
                raise StorageQuotaReached(MAX_BINARY_TOTAL, "bytes of files")
            entries[self.name] = {"file": self.file, "size": self.size,
                                  "type": self.media_type, "saved": format_time(now)}
            self.place()
            self._pod.commit(state)
            remove_unreferenced(self._pod, state)
        return _info(self.name, entries[self.name])


def _check_precondition(name: str, old: dict | None, if_match: str | None) -> None:
    if if_match is None:
        return
    current = _info(name, old).etag if old else None
    if if_match.strip() == "*" and current is not None:
        return
    if current is None or current not in [t.strip() for t in if_match.split(",")]:
        raise PreconditionFailed(if_match, current)


def delete_binary(pod: UnlockedPod, name: str, if_match: str | None = None) -> None:
    with pod.write_locked():
        state = pod.read_state()
        entries = state.setdefault("binaries", {})
        old = entries.get(check_name(name))
        if old is None:
            raise BinaryNotFound(name)
        _check_precondition(name, old, if_match)
        del entries[name]
        pod.commit(state)
        remove_unreferenced(pod, state)


def remove_unreferenced(pod: UnlockedPod, state: dict) -> None:
    """Delete binary files the manifest no longer names (replaced, deleted, or left
    by a crash between the file and the manifest), and stale abandoned uploads.
    Runs under the pod's write lock."""
    folder = pod.directory / "binaries"
    if not folder.exists():
        return
    live = {entry["file"] for entry in state.get("binaries", {}).values()}
    now = time.time()
    for path in folder.iterdir():
        if path.name.startswith(UPLOAD_PREFIX):
            if now - path.stat().st_mtime > STALE_UPLOAD:
                path.unlink(missing_ok=True)
        elif path.suffix == ".bin" and path.stem not in live:
            path.unlink(missing_ok=True)


def read_range(pod: UnlockedPod, info: BinaryInfo, start: int = 0,
               end: int | None = None) -> Iterator[bytes]:
    """Plaintext bytes ``start`` to ``end`` inclusive, decrypting only the chunks
    the range touches; each chunk is checked before any of it is returned."""
    end = info.size - 1 if end is None else end
    if info.size == 0 and start == 0 and end == -1:
        return iter(())
    if not (0 <= start <= end < info.size):
        raise RangeNotSatisfiable(info.size)
    path = pod.directory / "binaries" / f"{info.file}.bin"
    chunks = max(1, -(-info.size // CHUNK))
    expected = HEADER + info.size + chunks * crypto.CHUNK_OVERHEAD
    ad = envelope.associated(pod.did, "binary", info.file)
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise DecryptionFailed() from exc
    if os.fstat(handle.fileno()).st_size != expected:
        handle.close()
        raise DecryptionFailed()
    header = handle.read(HEADER)
    if header[:len(MAGIC)] != MAGIC:
        handle.close()
        raise DecryptionFailed()
    dek = envelope.unwrap_key(pod.key_material()[1], ad,
                              header[len(MAGIC):len(MAGIC) + _WRAPPED])
    prefix = header[len(MAGIC) + _WRAPPED:]
    return _chunks(handle, dek, prefix, ad, chunks, start, end)


def _chunks(handle, dek: bytes, prefix: bytes, ad: bytes, count: int, start: int,
            end: int) -> Iterator[bytes]:
    with handle:
        for index in range(start // CHUNK, end // CHUNK + 1):
            handle.seek(HEADER + index * SEALED_CHUNK)
            sealed = handle.read(SEALED_CHUNK)
            plain = crypto.open_chunk(dek, prefix, index, index == count - 1, sealed,
                                      ad)
            lo = start - index * CHUNK if index == start // CHUNK else 0
            hi = end - index * CHUNK + 1 if index == end // CHUNK else len(plain)
            yield plain[lo:hi]
