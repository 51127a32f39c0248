"""A writer killed with SIGKILL at a random point leaves a pod that reopens with the
last committed state (or the one being committed), every file readable, and no
plaintext anywhere; the next write cleans up what the killed one left."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pod.binaries import BinaryWriter, binaries, binary, read_range
from tests.factories import NOW, PASSPHRASE, pod_store

REPO = Path(__file__).resolve().parents[2]
MARK = b"PLAINTEXT-MARK"
BIG = 4 * 1024 * 1024
WRITER = """
import sys
from datetime import datetime, timezone
from pathlib import Path
from pod.binaries import BinaryWriter
from pod.crypto import INTERACTIVE
from pod.store import PodStore

root, did, passphrase, mode = sys.argv[1:5]
pod = PodStore(Path(root), kdf_cost=INTERACTIVE).unlock(did, passphrase)
now = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)

def together(first):
    # Eight threads write at once, so commits carry batches of versions.
    import threading
    done = []
    def one(k):
        done.append(pod.save_workcontext(
            {"id": did, "n": first + k, "pad": "PLAINTEXT-MARK" * 250}, now))
    threads = [threading.Thread(target=one, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return max(done)

def on_loop(first):
    # Eight writers on an event loop: one commit thread per batch (commits.py).
    import asyncio
    async def all_of_them():
        return await asyncio.gather(*(pod.store_version_async(
            {"id": did, "n": first + k, "pad": "PLAINTEXT-MARK" * 250}, now)
            for k in range(8)))
    return max(stored.version for stored in asyncio.run(all_of_them()))

n = 0
while True:
    n += 1
    if mode == "group":
        done = together(n)
    elif mode == "loop":
        done = on_loop(n)
    elif mode == "small":
        done = pod.save_workcontext({"id": did, "n": n, "pad": "PLAINTEXT-MARK" * 250},
                                    now)
    else:
        writer = BinaryWriter(pod, "big.bin", "application/octet-stream")
        piece = (b"PLAINTEXT-MARK" + n.to_bytes(4, "big")) * 3641
        for _ in range(%d // len(piece)):
            writer.write(piece)
        writer.commit(now)
        done = n
    print(done, flush=True)
""" % BIG


def run_and_kill(root: Path, did: str, mode: str, delay: float) -> int:
    """Start a writer, kill it ``delay`` seconds after its first commit, and
    return the last commit it reported."""
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(root), did, PASSPHRASE, mode],
        cwd=REPO, stdout=subprocess.PIPE, text=True)
    reported: list[int] = []
    first = threading.Event()

    def read() -> None:
        for line in process.stdout:
            reported.append(int(line))
            first.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert first.wait(30), "the writer never committed"
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    reader.join(10)
    return reported[-1]


def no_plaintext(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            assert MARK not in path.read_bytes(), path


@pytest.mark.parametrize("seed", range(4))
def test_a_killed_small_writer_leaves_the_last_committed_version(tmp_path, seed):
    store = pod_store(tmp_path / "pods")
    did = store.create(PASSPHRASE, NOW).did

    reported = run_and_kill(store.root, did, "small", random.Random(seed).uniform(0, 0.4))

    pod = pod_store(store.root).unlock(did, PASSPHRASE)
    last = pod.versions()[-1].version
    assert last in (reported, reported + 1)
    assert all(pod.version(v.version)["n"] == v.version for v in pod.versions())
    no_plaintext(store.root)
    pod.save_workcontext({"id": did, "n": last + 1}, NOW)
    assert list(store.root.rglob(".tmp-*")) == []


@pytest.mark.parametrize("mode", ["group", "loop"])
@pytest.mark.parametrize("seed", range(4))
def test_killed_concurrent_writers_leave_whole_batches_that_all_read_back(tmp_path,
                                                                         seed, mode):
    store = pod_store(tmp_path / "pods")
    did = store.create(PASSPHRASE, NOW).did

    delay = random.Random(seed).uniform(0, 0.4)
    reported = run_and_kill(store.root, did, mode, delay)

    pod = pod_store(store.root).unlock(did, PASSPHRASE)
    numbers = [v.version for v in pod.versions()]
    assert numbers == list(range(1, len(numbers) + 1))
    assert numbers[-1] >= reported
    assert all("n" in pod.version(n) for n in numbers)
    no_plaintext(store.root)
    pod.save_workcontext({"id": did, "n": 0}, NOW)
    # The log holds every version back to back, up to the end the state names.
    entries = [entry for entry, _ in pod.history()]
    assert [e["log"] for e in entries] == \
        [sum(e["length"] for e in entries[:k]) for k in range(len(entries))]
    assert pod.read_state()["logEnd"] == sum(e["length"] for e in entries)
    assert list(store.root.rglob(".tmp-*")) == []


@pytest.mark.parametrize("seed", range(3))
def test_a_killed_large_writer_leaves_the_last_committed_binary(tmp_path, seed):
    store = pod_store(tmp_path / "pods")
    did = store.create(PASSPHRASE, NOW).did

    reported = run_and_kill(store.root, did, "big", random.Random(seed).uniform(0, 1.0))

    pod = pod_store(store.root).unlock(did, PASSPHRASE)
    info = binary(pod, "big.bin")
    head = b"".join(read_range(pod, info, 0, 17))
    assert int.from_bytes(head[14:18], "big") in (reported, reported + 1)
    assert sum(len(piece) for piece in read_range(pod, info)) == info.size
    no_plaintext(store.root)
    writer = BinaryWriter(pod, "after.bin", "application/octet-stream")
    writer.write(b"after")
    writer.commit(NOW)
    files = {p.stem for p in (pod.directory / "binaries").glob("*.bin")}
    assert files == {info.file for info in binaries(pod)}
