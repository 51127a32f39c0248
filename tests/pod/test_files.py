"""Writes are atomic: the old content or the new, never a mix, never a temp file."""

from __future__ import annotations

import fcntl
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from pod import files, inbox
from pod.alerts import AlertBook, AlertSettings
from pod.files import STAGING, atomic_write, datasync_together, pod_lock
from tests.factories import NOW, PASSPHRASE, full_workcontext, pod_store


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(".tmp")]


def test_an_atomic_write_creates_the_file_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "deep" / "er" / "file.bin"

    atomic_write(target, b"first")
    atomic_write(target, b"second")

    assert target.read_bytes() == b"second"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("failing", ["os.replace", "os.fsync"])
def test_a_failed_atomic_write_keeps_the_old_content_and_no_temporary_file(
        tmp_path, monkeypatch, failing):
    target = tmp_path / "file.bin"
    atomic_write(target, b"old")

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(f"pod.files.{failing}", fail)
    with pytest.raises(OSError):
        atomic_write(target, b"new")

    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_saving_workcontexts_leaves_no_temporary_files(tmp_path):
    store = pod_store(tmp_path / "pods")
    pod = store.create(PASSPHRASE, NOW)
    for hours in (8, 16, 24):
        pod.save_workcontext(full_workcontext(pod.did, hours_per_week=hours), NOW)

    assert leftovers(tmp_path) == []
    assert [v.version for v in pod.versions()] == [1, 2, 3]


def test_a_save_whose_flush_fails_leaves_the_pod_as_it_was(tmp_path, monkeypatch):
    store = pod_store(tmp_path / "pods")
    pod = store.create(PASSPHRASE, NOW)
    first = full_workcontext(pod.did, hours_per_week=8)
    pod.save_workcontext(first, NOW)

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr("pod.files.os.fdatasync", fail)
    with pytest.raises(OSError):
        pod.save_workcontext(full_workcontext(pod.did, hours_per_week=40), NOW)
    monkeypatch.undo()

    assert leftovers(tmp_path) == []
    assert [v.version for v in pod.versions()] == [1]
    assert pod_store(store.root).unlock(pod.did, PASSPHRASE).workcontext() == first
    pod.save_workcontext(full_workcontext(pod.did, hours_per_week=40), NOW)
    assert [v.version for v in pod.versions()] == [1, 2]


def test_a_saved_version_and_its_state_are_flushed_together_before_the_answer(
        tmp_path, monkeypatch):
    store = pod_store(tmp_path / "pods")
    pod = store.create(PASSPHRASE, NOW)
    pod.save_workcontext(full_workcontext(pod.did), NOW)
    flushed: list[int] = []
    real_fdatasync = os.fdatasync

    def fdatasync(fd):
        real_fdatasync(fd)
        flushed.append(os.fstat(fd).st_ino)

    monkeypatch.setattr("pod.files.os.fdatasync", fdatasync)
    monkeypatch.setattr("pod.files.os.replace", None)  # no rename on this path
    pod.save_workcontext(full_workcontext(pod.did, hours_per_week=40), NOW)
    monkeypatch.undo()

    log = pod.directory / "versions" / "log.bin"
    assert sorted(flushed) == sorted([log.stat().st_ino,
                                      (pod.directory / "state.bin").stat().st_ino])


@pytest.mark.parametrize("failing", [0, 1])
def test_flushing_together_raises_when_either_flush_fails_after_both_ended(
        tmp_path, monkeypatch, failing):
    paths = [tmp_path / "a", tmp_path / "b"]
    fds = [os.open(p, os.O_RDWR | os.O_CREAT, 0o600) for p in paths]
    ended: list[int] = []
    real_fdatasync = os.fdatasync

    def fdatasync(fd):
        real_fdatasync(fd)
        ended.append(fd)
        if fd == fds[failing]:
            raise OSError("disk full")

    monkeypatch.setattr("pod.files.os.fdatasync", fdatasync)
    try:
        with pytest.raises(OSError, match="disk full"):
            datasync_together(fds)
    finally:
        for fd in fds:
            os.close(fd)

    assert sorted(ended) == sorted(fds)


def test_every_temporary_file_of_a_pod_is_made_where_the_next_writer_sweeps(
        store, pod, monkeypatch):
    """A writer killed between its temporary file and the rename leaves the file
    behind; writers sweep the pod's staging folder (and the keyring's) under the
    pod's lock, so a temporary file made anywhere else would stay for ever."""
    made: list[Path] = []
    mkstemp = files.tempfile.mkstemp

    def recorded(*args, **kwargs):
        made.append(Path(kwargs["dir"]))
        return mkstemp(*args, **kwargs)

    monkeypatch.setattr(files.tempfile, "mkstemp", recorded)
    AlertBook(pod).set_settings(AlertSettings("weekly", 5))
    inbox.deliver(store, pod.did, inbox.seal_to(pod.did, b"hallo"), "GM0344", NOW)
    pod.save_workcontext(full_workcontext(pod.did, hours_per_week=8), NOW)

    assert made and set(made) <= {pod.directory / STAGING,
                                  store.keyring.directory / STAGING}


def test_a_pod_lock_waited_for_while_its_directory_was_removed_is_the_new_one(
        tmp_path):
    directory = tmp_path / "pod"
    inside, leave = threading.Event(), threading.Event()

    def wait_for_the_lock():
        with pod_lock(directory):
            inside.set()
            leave.wait(timeout=10)

    with pod_lock(directory):
        waiter = threading.Thread(target=wait_for_the_lock)
        waiter.start()
        time.sleep(0.2)  # lets the waiter open the lock file and wait on it
        shutil.rmtree(directory)
    assert inside.wait(timeout=10)

    directory.mkdir(exist_ok=True)  # as another writer arriving now would
    with open(directory / ".lock", "a+b") as handle:
        with pytest.raises(BlockingIOError):
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    leave.set()
    waiter.join()
