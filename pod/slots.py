"""The state file as two slots written in place: one disk flush per commit.

A commit used to write the state to a temporary file, fsync it, rename it over
``state.bin`` and fsync the directory: two rounds of the file system's journal per
write. Here the state file is made once, with two fixed-size slots, and a commit
overwrites the slot of the older state in place and flushes the file's data
(``fdatasync``); no name and no size changes, so there is no metadata to journal::

    header  "VGS2" | slot size (4 bytes) | 8 bytes reserved          16 bytes
    slot 0  "VGSL" | generation (8) | length (4) | sealed state     slot size
    slot 1  the same

Generation ``g`` goes into slot ``g % 2``, so the state it replaces (``g - 1``,
in the other slot) is never touched while ``g`` is written. A reader takes the
slot with the higher generation whose envelope opens (its associated data names
the pod and the generation, envelope.py) and that the caller accepts; a torn or
half-written slot fails to open, and the other one, the previous committed state,
is used. The file is rewritten whole (temporary file, rename, directory fsync)
only when it does not exist yet, holds the older one-state format (``VGS1``), or
a state outgrows its slot; the new slot size is then a power of two with room for
the state to double.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable, TypeVar

from .errors import DecryptionFailed
from .files import STAGING, atomic_write, datasync_together

MAGIC = b"VGS2"
RECORD = b"VGSL"
LEGACY_MAGIC = b"VGS1"
HEADER_BYTES = 16
RECORD_HEADER = 16  # magic | generation | length
MIN_SLOT = 16 * 1024
_READS = 5
T = TypeVar("T")


def read_newest(path: Path, accept: Callable[[int, bytes], T]) -> tuple[int, T]:
    """The newest slot that ``accept(generation, sealed)`` takes without raising
    DecryptionFailed; DecryptionFailed when neither does.

    Readers take no lock, and two commits in quick succession can overwrite both
    slots while one reader reads them (the second slot changes between reading
    its header and its body), so a read in which neither slot opens is repeated
    a few times; a file that is damaged fails every time."""
    for _ in range(_READS):
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise DecryptionFailed() from exc
        try:
            candidates = _candidates(fd)
        finally:
            os.close(fd)
        for generation, sealed in candidates:
            try:
                return generation, accept(generation, sealed)
            except DecryptionFailed:
                continue
    raise DecryptionFailed()


def _candidates(fd: int) -> list[tuple[int, bytes]]:
    head = os.pread(fd, HEADER_BYTES + RECORD_HEADER, 0)
    if head[:4] == LEGACY_MAGIC and len(head) >= 12:
        blob = head + _read_all(fd, len(head))
        return [(int.from_bytes(blob[4:12], "big"), blob[12:])]
    if head[:4] != MAGIC or len(head) < HEADER_BYTES:
        raise DecryptionFailed()
    size = int.from_bytes(head[4:8], "big")
    found = []
    for index in (0, 1):
        start = HEADER_BYTES + index * size
        record = os.pread(fd, RECORD_HEADER, start)
        if len(record) < RECORD_HEADER or record[:4] != RECORD:
            continue
        length = int.from_bytes(record[12:16], "big")
        if length > size - RECORD_HEADER:
            continue
        found.append((int.from_bytes(record[4:12], "big"), start + RECORD_HEADER,
                      length))
    found.sort(reverse=True)
    return [(generation, os.pread(fd, length, offset))
            for generation, offset, length in found]


def _read_all(fd: int, offset: int) -> bytes:
    pieces = []
    while True:
        piece = os.pread(fd, 1 << 16, offset)
        if not piece:
            return b"".join(pieces)
        pieces.append(piece)
        offset += len(piece)


def write(path: Path, generation: int, sealed: bytes,
          sync_with: Iterable[int] = (), with_files: Iterable[Path] = ()) -> None:
    """Make ``sealed`` generation ``generation`` durably, the caller holding the
    pod's lock. ``sync_with`` are open files (the version log) flushed in the same
    round; ``with_files`` are new files, synced before a whole-file rewrite."""
    record = RECORD + generation.to_bytes(8, "big") + len(sealed).to_bytes(4, "big") \
        + sealed
    with_files = list(with_files)
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        fd = None
    if fd is not None:
        try:
            size = _slot_size(fd)
            if size and not with_files and len(record) <= size:
                _write_in_place(fd, HEADER_BYTES + (generation % 2) * size, record,
                                sync_with)
                return
        finally:
            os.close(fd)
    _rewrite(path, generation, record, sync_with, with_files)


def _write_in_place(fd: int, offset: int, record: bytes,
                    sync_with: Iterable[int]) -> None:
    """Write and flush one slot. A flush that fails leaves the outcome on disk
    unknown, so the slot is marked empty again before the error goes up: readers
    then take the previous state, as they would after a crash. (A reader that
    opened the slot in between has seen a state its writer reports as failed, as
    with any write whose flush fails.)"""
    os.pwrite(fd, record, offset)
    try:
        datasync_together([fd, *sync_with])
    except BaseException:
        try:
            os.pwrite(fd, bytes(RECORD_HEADER), offset)
        except OSError:
            pass
        raise


def _slot_size(fd: int) -> int:
    head = os.pread(fd, HEADER_BYTES, 0)
    if head[:4] != MAGIC or len(head) < HEADER_BYTES:
        return 0
    size = int.from_bytes(head[4:8], "big")
    return size if os.fstat(fd).st_size >= HEADER_BYTES + 2 * size else 0


def _rewrite(path: Path, generation: int, record: bytes, sync_with: Iterable[int],
             with_files: list[Path]) -> None:
    size = MIN_SLOT
    while size < 2 * len(record):
        size *= 2
    slots = [bytes(size), bytes(size)]
    slots[generation % 2] = record + bytes(size - len(record))
    header = MAGIC + size.to_bytes(4, "big") + bytes(8)
    for fd in sync_with:
        os.fsync(fd)
    atomic_write(path, [header, *slots], staging=path.parent / STAGING,
                 with_files=with_files)
