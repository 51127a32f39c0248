"""Where a pod keeps a version's ciphertext and its state on disk, for tests that
change, cut or swap those bytes the way a fault or an attacker would."""

from __future__ import annotations

import os
from pathlib import Path

from pod import UnlockedPod
from pod import slots


def version_range(pod: UnlockedPod, number: int) -> tuple[Path, int, int]:
    """The file holding version ``number``, and its offset and length there."""
    entry = next(e for e in pod.read_state()["versions"] if e["version"] == number)
    return pod.directory / "versions" / "log.bin", entry["log"], entry["length"]


def read_version(pod: UnlockedPod, number: int) -> bytes:
    path, offset, length = version_range(pod, number)
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read(length)


def write_version(pod: UnlockedPod, number: int, data: bytes) -> None:
    """Put ``data`` where version ``number`` lies (it may be shorter or longer)."""
    path, offset, _ = version_range(pod, number)
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def cut_version(pod: UnlockedPod, number: int, keep: int) -> None:
    """Cut the file ``keep`` bytes into version ``number`` (negative: from its end)."""
    path, offset, length = version_range(pod, number)
    os.truncate(path, offset + (keep if keep >= 0 else length + keep))


def slot_record(pod: UnlockedPod, generation: int) -> tuple[Path, int]:
    """The state file and the offset of the slot generation ``generation`` goes in."""
    path = pod.directory / "state.bin"
    size = int.from_bytes(path.read_bytes()[4:8], "big")
    return path, slots.HEADER_BYTES + (generation % 2) * size


def flip_in_slot(pod: UnlockedPod, generation: int, at: int = 40) -> None:
    path, offset = slot_record(pod, generation)
    data = bytearray(path.read_bytes())
    data[offset + at] ^= 0x01
    path.write_bytes(bytes(data))
