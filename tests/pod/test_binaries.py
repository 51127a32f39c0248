"""A binary is stored encrypted in chunks as it streams, any byte range reads back,
and a truncated, reordered, swapped or stale file fails instead of being read."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from pod import (
    BinaryNotFound,
    DecryptionFailed,
    InvalidName,
    PreconditionFailed,
    RangeNotSatisfiable,
    UnlockedPod,
)
from pod.binaries import (
    CHUNK,
    HEADER,
    SEALED_CHUNK,
    UPLOAD_PREFIX,
    BinaryWriter,
    binaries,
    binary,
    delete_binary,
    read_range,
)
from tests.factories import NOW, PASSPHRASE, pod_store

DATA = os.urandom(3 * CHUNK + 1234)


@pytest.fixture
def pod(tmp_path: Path) -> UnlockedPod:
    return pod_store(tmp_path / "pods").create(PASSPHRASE, NOW)


def upload(pod: UnlockedPod, data: bytes = DATA, name: str = "intro.mp4",
           piece: int = 10_000, if_match: str | None = None):
    writer = BinaryWriter(pod, name, "video/mp4")
    for start in range(0, len(data), piece):
        writer.write(data[start:start + piece])
    return writer.commit(NOW, if_match)


def stored_file(pod: UnlockedPod, name: str = "intro.mp4") -> Path:
    return pod.directory / "binaries" / f"{binary(pod, name).file}.bin"


def read_all(pod: UnlockedPod, name: str = "intro.mp4") -> bytes:
    return b"".join(read_range(pod, binary(pod, name)))


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK])
def test_a_binary_of_any_size_reads_back_whole(pod, size):
    data = DATA[:size]
    info = upload(pod, data)

    assert info.size == size and read_all(pod) == data
    assert stored_file(pod).stat().st_size == HEADER + size + max(
        1, -(-size // CHUNK)) * (SEALED_CHUNK - CHUNK)


@pytest.mark.parametrize("start, end", [(0, 0), (CHUNK - 5, CHUNK + 5),
                                        (100, 3 * CHUNK + 1233), (3 * CHUNK, 3 * CHUNK)])
def test_any_byte_range_reads_back(pod, start, end):
    info = upload(pod)

    assert b"".join(read_range(pod, info, start, end)) == DATA[start:end + 1]


@pytest.mark.parametrize("start, end", [(0, len(DATA)), (-1, 3), (5, 4)])
def test_a_range_outside_the_binary_is_refused(pod, start, end):
    info = upload(pod)

    with pytest.raises(RangeNotSatisfiable):
        list(read_range(pod, info, start, end))


def test_no_plaintext_reaches_the_disk(pod):
    upload(pod, b"PLAINTEXT-MARKER" * 10_000)

    for path in pod.directory.rglob("*"):
        if path.is_file():
            assert b"PLAINTEXT-MARKER" not in path.read_bytes()


def test_a_truncated_binary_fails(pod):
    upload(pod)
    path = stored_file(pod)
    path.write_bytes(path.read_bytes()[:-SEALED_CHUNK // 2])

    with pytest.raises(DecryptionFailed):
        read_all(pod)


def test_a_binary_cut_at_a_chunk_boundary_fails_even_for_an_early_range(pod):
    info = upload(pod)
    path = stored_file(pod)
    path.write_bytes(path.read_bytes()[:HEADER + 2 * SEALED_CHUNK])

    with pytest.raises(DecryptionFailed):
        list(read_range(pod, info, 0, 10))


def test_two_chunks_swapped_fail(pod):
    info = upload(pod)
    path = stored_file(pod)
    raw = path.read_bytes()
    one = raw[HEADER:HEADER + SEALED_CHUNK]
    two = raw[HEADER + SEALED_CHUNK:HEADER + 2 * SEALED_CHUNK]
    path.write_bytes(raw[:HEADER] + two + one + raw[HEADER + 2 * SEALED_CHUNK:])

    with pytest.raises(DecryptionFailed):
        list(read_range(pod, info, 0, 10))


def test_an_older_binary_put_back_under_the_new_file_fails(pod):
    upload(pod, DATA[:1000])
    old = stored_file(pod).read_bytes()
    upload(pod, DATA[1000:2000])
    stored_file(pod).write_bytes(old)

    with pytest.raises(DecryptionFailed):
        read_all(pod)


def test_a_replaced_binary_leaves_only_its_new_file(pod):
    upload(pod)
    upload(pod, b"new")

    assert [p.name for p in (pod.directory / "binaries").iterdir()] == [
        stored_file(pod).name]
    assert read_all(pod) == b"new"


def test_a_write_with_a_stale_etag_is_refused_and_changes_nothing(pod):
    first = upload(pod)
    upload(pod, b"second", if_match=first.etag)

    with pytest.raises(PreconditionFailed):
        upload(pod, b"third", if_match=first.etag)
    assert read_all(pod) == b"second"
    assert len(list((pod.directory / "binaries").iterdir())) == 1


def test_a_deleted_binary_is_gone_with_its_file(pod):
    upload(pod)
    delete_binary(pod, "intro.mp4")

    assert binaries(pod) == []
    assert list((pod.directory / "binaries").iterdir()) == []
    with pytest.raises(BinaryNotFound):
        binary(pod, "intro.mp4")


def test_an_aborted_upload_leaves_nothing(pod):
    writer = BinaryWriter(pod, "intro.mp4", "video/mp4")
    writer.write(DATA)
    writer.abort()

    assert list((pod.directory / "binaries").iterdir()) == []
    assert binaries(pod) == []


@pytest.mark.parametrize("name", ["", ".hidden", "../state.bin", "a/b", "A.mp4",
                                  "a%2fb", "x" * 121, "caf\u00e9", "a\\b", "a b"])
def test_a_name_that_could_reach_another_file_is_refused(pod, name):
    with pytest.raises(InvalidName):
        BinaryWriter(pod, name, "video/mp4")


def test_a_binary_file_copied_from_another_pod_fails(tmp_path, pod):
    other = pod_store(tmp_path / "pods").create(PASSPHRASE, NOW)
    upload(other)
    upload(pod)
    shutil.copyfile(stored_file(other), stored_file(pod))

    with pytest.raises(DecryptionFailed):
        read_all(pod)


def test_uploads_waiting_for_the_pods_lock_all_read_back(pod, monkeypatch):
    """Each upload finishes its file, then waits for the pod's lock to name it in
    the manifest; the writer holding the lock sweeps unreferenced files and must
    not take the finished files of those still waiting."""
    uploads = 6
    waiting = threading.Semaphore(0)
    take_lock = pod.write_locked

    def counted_lock():
        waiting.release()
        return take_lock()

    monkeypatch.setattr(pod, "write_locked", counted_lock)
    errors: list[BaseException] = []

    def one(k: int) -> None:
        try:
            upload(pod, f"content {k}".encode(), name=f"g{k}")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(k,)) for k in range(uploads)]
    with take_lock():
        for thread in threads:
            thread.start()
        for _ in threads:
            waiting.acquire()
    for thread in threads:
        thread.join()

    assert errors == []
    assert {name: read_all(pod, name) for name in (f"g{k}" for k in range(uploads))} \
        == {f"g{k}": f"content {k}".encode() for k in range(uploads)}
    assert {p.stem for p in (pod.directory / "binaries").iterdir()} == \
        {info.file for info in binaries(pod)}


def test_a_finished_upload_is_not_a_stored_file_until_it_is_recorded(pod):
    writer = BinaryWriter(pod, "later.mp4", "video/mp4")
    writer.write(b"later")
    entry = writer.finish_unrecorded("2026-12-04T12:00:00Z")
    upload(pod, b"meanwhile", name="other.mp4")

    assert not (pod.directory / "binaries" / f"{entry['file']}.bin").exists()
    assert [p for p in (pod.directory / "binaries").iterdir()
            if p.name.startswith(UPLOAD_PREFIX)] != []
