"""Writes are atomic: the old content or the new, never a mix, never a temp file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pod.files import atomic_write
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


def test_a_save_that_fails_on_disk_leaves_the_pod_as_it_was(tmp_path, monkeypatch):
    store = pod_store(tmp_path / "pods")
    pod = store.create(PASSPHRASE, NOW)
    first = full_workcontext(pod.did, hours_per_week=8)
    pod.save_workcontext(first, NOW)

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr("pod.files.os.replace", fail)
    with pytest.raises(OSError):
        pod.save_workcontext(full_workcontext(pod.did, hours_per_week=40), NOW)
    monkeypatch.undo()

    assert leftovers(tmp_path) == []
    assert [v.version for v in pod.versions()] == [1]
    assert store.unlock(pod.did, PASSPHRASE).workcontext() == first


def test_a_saved_version_and_its_directory_entry_are_on_disk_before_the_state_names_it(
        tmp_path, monkeypatch):
    store = pod_store(tmp_path / "pods")
    pod = store.create(PASSPHRASE, NOW)
    events: list[tuple[str, int | str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        real_fsync(fd)
        events.append(("fsync", os.fstat(fd).st_ino))

    def replace(source, target):
        real_replace(source, target)
        events.append(("replace", Path(target).name))

    monkeypatch.setattr("pod.files.os.fsync", fsync)
    monkeypatch.setattr("pod.files.os.replace", replace)
    pod.save_workcontext(full_workcontext(pod.did), NOW)
    monkeypatch.undo()

    version = next((pod.directory / "versions").glob("*.bin"))
    named = events.index(("replace", "state.bin"))
    synced_before = {ino for kind, ino in events[:named] if kind == "fsync"}
    assert version.stat().st_ino in synced_before
    assert version.parent.stat().st_ino in synced_before
    assert ("fsync", pod.directory.stat().st_ino) in events[named:]
