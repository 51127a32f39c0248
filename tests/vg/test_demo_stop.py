"""``vg demo`` stopped while it creates pods (SIGTERM, as a service manager or
``timeout`` sends it) leaves no worker behind writing into its directory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_demo_stopped_with_sigterm_leaves_no_worker_running(tmp_path):
    command = [sys.executable, "-c", "from vg.cli import app; app()", "demo",
               "--holders", "60", "--data-dir", str(tmp_path / "demo")]
    demo = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=dict(os.environ))
    workers: list[int] = []
    deadline = time.monotonic() + 120
    while len(workers) < 2 and time.monotonic() < deadline and demo.poll() is None:
        time.sleep(0.2)
        workers = _children(demo.pid)
    assert workers, "the demo started no workers"

    demo.send_signal(signal.SIGTERM)
    demo.wait(timeout=180)

    time.sleep(1)
    assert [pid for pid in workers if _running(pid)] == []
