"""Benchmark the pod: Workcontext reads and writes through the HTTP API, binary
encryption against the raw cipher, memory during a 1 GB upload, and the Community
Solid Server on the same machine with the same load generator.

    .venv/bin/python bench/pod_bench.py [--seconds 10] [--reps 3] [--no-css]

- The pod runs in uvicorn (one worker) on 127.0.0.1; wrk drives it. GET reads the
  Workcontext (decrypt, ETag); PUT stores a new version (validate, encrypt, three
  fsynced atomic writes) with no live grant, so nothing is published.
- Encryption: the chunked XChaCha20-Poly1305 of pod/binaries.py on 1 MB and 64 MB in
  memory, against one libsodium call over the whole buffer; and the BinaryWriter end
  to end (file writes and fsync included), for information.
- Memory: the server's peak RSS (VmHWM) before and after streaming 1 GiB in.
- The Community Solid Server 7.2.0 is installed with npm into a temporary folder and
  run with its file backend and no authentication, inside a network namespace that has
  only loopback (it listens on every interface); wrk runs in the same namespace.

Prints the figures and writes them to bench/results/pod.json. Needs wrk, and for the
Solid server node, npm and root for ``ip netns``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import nacl.bindings  # noqa: E402

from pod import crypto  # noqa: E402
from pod.binaries import CHUNK, BinaryWriter  # noqa: E402
from pod.crypto import INTERACTIVE  # noqa: E402
from pod.store import PodStore  # noqa: E402

RESULTS = REPO / "bench" / "results" / "pod.json"
PASSPHRASE = "a long benchmark passphrase"
NETNS = "vgpodbench"
CSS_VERSION = "7.2.0"
SKILLS = 30  # makes the Workcontext about 3.5 KB
SERVER = """
import uvicorn
from pathlib import Path
from vg.app import create_app
from vg.settings import Settings
app = create_app(Settings(data_dir=Path({data!r}), kdf_level="interactive"))
uvicorn.run(app, host="127.0.0.1", port={port}, log_level="warning", access_log=False)
"""
PUT_LUA = """
wrk.method = "PUT"
wrk.headers["Content-Type"] = "{ctype}"
{auth}
local f = io.open("{body}", "rb")
wrk.body = f:read("*a")
f:close()
"""


# -- helpers ----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, seconds: float = 60, prefix: list[str] | None = None) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if prefix:
                done = subprocess.run(prefix + ["curl", "-s", "-o", "/dev/null", url],
                                      timeout=5)
                if done.returncode == 0:
                    return
            else:
                httpx.get(url, timeout=2)
                return
        except (httpx.HTTPError, subprocess.TimeoutExpired):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


def wrk(url: str, connections: int, seconds: int, lua: Path | None = None,
        headers: list[str] = (), prefix: list[str] | None = None) -> dict:
    command = (prefix or []) + ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
                                "--latency"]
    for header in headers:
        command += ["-H", header]
    if lua:
        command += ["-s", str(lua)]
    output = subprocess.run(command + [url], capture_output=True, text=True,
                            check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", output)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {"rps": rate, "non2xx": int(errors.group(1)) if errors else 0,
            "p50_ms": float(p50.group(1)) * scale[p50.group(2)] if p50 else None}


def median_runs(runs: list[dict]) -> dict:
    return {"rps_median": statistics.median(r["rps"] for r in runs),
            "rps_runs": [round(r["rps"], 1) for r in runs],
            "p50_ms_runs": [r["p50_ms"] for r in runs],
            "non2xx_runs": [r["non2xx"] for r in runs]}


def peak_rss_mb(pid: int) -> tuple[float, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
    hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
    return rss, hwm


def workcontext_document(did: str) -> dict:
    """A realistic 3-4 KB Workcontext (the tests' full example, padded with skills)."""
    from tests.factories import full_workcontext, skill_pool

    return full_workcontext(did, skills=tuple(skill_pool()[:SKILLS]))


# -- the pod server ------------------------------------------------------------------------
class PodServer:
    def __init__(self, data: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER.format(data=str(data), port=self.port)],
            cwd=REPO, env=env)
        wait_for(self.base + "/api/v1/openapi.json")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def pod_http(seconds: int, reps: int, work: Path) -> tuple[dict, bytes]:
    server = PodServer(work / "http")
    try:
        client = httpx.Client(base_url=server.base, timeout=60)
        created = client.post("/api/v1/pods", json={"passphrase": PASSPHRASE}).json()
        auth = f"Authorization: Bearer {created['session']}"
        pod_id = _pod_id(created["did"])
        body = json.dumps(workcontext_document(created["did"])).encode()
        url = f"{server.base}/api/v1/pods/{pod_id}/werkcontext"
        saved = client.put(url, content=body, headers={
            "Authorization": auth[15:], "Content-Type": "application/ld+json"})
        assert saved.status_code == 200, saved.text
        lua = work / "put.lua"
        (work / "body.json").write_bytes(body)
        lua.write_text(PUT_LUA.format(ctype="application/ld+json",
                                      auth=f'wrk.headers["Authorization"] = "{auth[15:]}"',
                                      body=work / "body.json"))
        get = [wrk(url, 64, seconds, headers=[auth]) for _ in range(reps)]
        put = [wrk(url, 8, seconds, lua=lua) for _ in range(reps)]
        return {"get_c64": median_runs(get), "put_c8": median_runs(put),
                "document_bytes": len(body)}, body
    finally:
        server.stop()


def _pod_id(did: str) -> str:
    return PodStore(Path("/nonexistent"), kdf_cost=INTERACTIVE).pod_id(did)


# -- encryption throughput -------------------------------------------------------------------
def encryption(work: Path, reps: int) -> dict:
    results = {}
    store = PodStore(work / "enc", kdf_cost=INTERACTIVE)
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    pod = store.create(PASSPHRASE, now)
    for size in (1 << 20, 64 << 20):
        data = os.urandom(size)
        key, nonce = crypto.random_key(), os.urandom(24)
        raw = _best(reps, lambda: nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
            data, b"", nonce, key))
        chunked = _best(reps, lambda: _chunked(data, key))
        writer = _best(reps, lambda: _write(pod, data, now))
        mb = size / 1e6
        results[f"{size >> 20}MiB"] = {
            "raw_cipher_MBps": round(mb / raw, 1),
            "chunked_MBps": round(mb / chunked, 1),
            "chunked_over_raw": round(raw / chunked, 3),
            "binarywriter_with_io_MBps": round(mb / writer, 1),
            "binarywriter_over_raw": round(raw / writer, 3),
        }
    return results


def _best(reps: int, action) -> float:
    """The median of at least five timings, after one warm-up call."""
    action()
    times = []
    for _ in range(max(reps, 5)):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _chunked(data: bytes, key: bytes) -> None:
    prefix = crypto.random_chunk_prefix()
    view = memoryview(data)
    count = max(1, -(-len(data) // CHUNK))
    for index in range(count):
        crypto.seal_chunk(key, prefix, index, index == count - 1,
                          bytes(view[index * CHUNK:(index + 1) * CHUNK]), b"ad")


def _write(pod, data: bytes, now) -> None:
    writer = BinaryWriter(pod, "bench.bin", "application/octet-stream")
    view = memoryview(data)
    for start in range(0, len(data), 1 << 20):
        writer.write(bytes(view[start:start + (1 << 20)]))
    writer.commit(now)


# -- a 1 GiB upload ----------------------------------------------------------------------------
def upload_memory(work: Path, gib: float) -> dict:
    server = PodServer(work / "upload")
    try:
        client = httpx.Client(base_url=server.base, timeout=600)
        created = client.post("/api/v1/pods", json={"passphrase": PASSPHRASE}).json()
        headers = {"Authorization": f"Bearer {created['session']}",
                   "Content-Type": "video/mp4"}
        url = f"/api/v1/pods/{_pod_id(created['did'])}/bestanden/intro.mp4"
        before_rss, before_hwm = peak_rss_mb(server.process.pid)
        size = int(gib * (1 << 30))
        piece = os.urandom(1 << 20)

        def body():
            sent = 0
            while sent < size:
                chunk = piece[: min(len(piece), size - sent)]
                sent += len(chunk)
                yield chunk

        start = time.perf_counter()
        response = client.put(url, content=body(), headers=headers)
        upload_s = time.perf_counter() - start
        assert response.status_code == 201, response.text
        _, after_hwm = peak_rss_mb(server.process.pid)
        start = time.perf_counter()
        got = 0
        with client.stream("GET", url, headers=headers) as stream:
            for chunk in stream.iter_bytes():
                got += len(chunk)
        download_s = time.perf_counter() - start
        assert got == size
        return {"bytes": size, "rss_before_MB": round(before_rss, 1),
                "peak_rss_before_MB": round(before_hwm, 1),
                "peak_rss_after_MB": round(after_hwm, 1),
                "peak_growth_MB": round(after_hwm - before_hwm, 1),
                "upload_MBps": round(size / 1e6 / upload_s, 1),
                "download_MBps": round(size / 1e6 / download_s, 1)}
    finally:
        server.stop()


# -- the Community Solid Server ------------------------------------------------------------
def css(seconds: int, reps: int, body: bytes, work: Path) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="vg-css-"))
    prefix = ["ip", "netns", "exec", NETNS]
    process = None
    try:
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error",
                        f"@solid/community-server@{CSS_VERSION}"], cwd=folder,
                       check=True, capture_output=True, timeout=600)
        subprocess.run(["ip", "netns", "add", NETNS], check=True)
        subprocess.run(prefix + ["ip", "link", "set", "lo", "up"], check=True)
        port = 3000
        binary = folder / "node_modules" / ".bin" / "community-solid-server"
        process = subprocess.Popen(
            prefix + [str(binary), "-c", "@css:config/file-root.json", "-f",
                      str(folder / "data"), "-p", str(port), "-l", "warn"],
            cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}/profile.jsonld"
        wait_for(f"http://127.0.0.1:{port}/", 120, prefix)
        # The Solid server would fetch the context URL (and fail without a network),
        # so it gets the same document with the shipped context inlined.
        inline = work / "css-body.json"
        inline.write_bytes(_inline_context(body))
        put = subprocess.run(prefix + ["curl", "-s", "-o", "/dev/null", "-w",
                                       "%{http_code}", "-X", "PUT", "-H",
                                       "Content-Type: application/ld+json",
                                       "--data-binary", "@" + str(inline),
                                       url], capture_output=True, text=True)
        lua = work / "css-put.lua"
        lua.write_text(PUT_LUA.format(ctype="application/ld+json", auth="",
                                      body=inline))
        get = [wrk(url, 64, seconds, headers=["Accept: application/ld+json"],
                   prefix=prefix) for _ in range(reps)]
        puts = [wrk(url, 8, seconds, lua=lua, prefix=prefix) for _ in range(reps)]
        return {"version": CSS_VERSION, "config": "file-root (file backend, public)",
                "document_bytes": inline.stat().st_size,
                "first_put_status": put.stdout, "get_c64": median_runs(get),
                "put_c8": median_runs(puts)}
    finally:
        if process is not None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        subprocess.run(["ip", "netns", "del", NETNS], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def _inline_context(body: bytes) -> bytes:
    from schemas import ShippedContextLoader

    document = json.loads(body)
    shipped = ShippedContextLoader()(document["@context"], {})["document"]
    return json.dumps({**document, "@context": shipped["@context"]}).encode()


# -- main ------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--upload-gib", type=float, default=1.0)
    parser.add_argument("--no-css", action="store_true")
    parser.add_argument("--only-css", action="store_true",
                        help="keep the pod figures in the results file, rerun the peer")
    args = parser.parse_args()
    os.environ.setdefault("VG_REFERENCE_DIR", str((REPO.parent / "shared" / "data")))

    work = Path(tempfile.mkdtemp(prefix="vg-pod-bench-"))
    try:
        results = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                               "platform": platform.platform()},
                   "seconds": args.seconds, "reps": args.reps}
        if args.only_css:
            results = json.loads(RESULTS.read_text())
            body = json.dumps(workcontext_document("did:key:z6MkBench")).encode()
            (work / "body.json").write_bytes(body)
        else:
            results["pod_http"], body = pod_http(args.seconds, args.reps, work)
            print("pod GET c64 req/s", results["pod_http"]["get_c64"]["rps_median"],
                  "PUT c8 req/s", results["pod_http"]["put_c8"]["rps_median"],
                  flush=True)
            results["encryption"] = encryption(work, args.reps)
            print("encryption", json.dumps(results["encryption"]), flush=True)
            results["upload"] = upload_memory(work, args.upload_gib)
            print("upload", json.dumps(results["upload"]), flush=True)
        if not args.no_css:
            try:
                results["css"] = css(args.seconds, args.reps, body, work)
                pod, peer = results["pod_http"], results["css"]
                failed = sum(peer["get_c64"]["non2xx_runs"] + peer["put_c8"]["non2xx_runs"])
                if failed or peer["first_put_status"] not in ("201", "205", "204"):
                    results["ratio_to_css"] = None
                    results["css"]["invalid"] = (
                        "the Solid server answered errors, so its rates are not "
                        "comparable and no ratio is given")
                    raise RuntimeError(results["css"]["invalid"])
                results["ratio_to_css"] = {
                    "get": round(pod["get_c64"]["rps_median"]
                                 / peer["get_c64"]["rps_median"], 1),
                    "put": round(pod["put_c8"]["rps_median"]
                                 / peer["put_c8"]["rps_median"], 1)}
                print("css", json.dumps(results["css"]), flush=True)
                print("ratio to css", results["ratio_to_css"], flush=True)
            except (subprocess.SubprocessError, OSError, RuntimeError) as exc:
                results.setdefault("css", {})["error"] = f"{type(exc).__name__}: {exc}"[:500]
                print("css failed:", results["css"]["error"], flush=True)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        print("written to", RESULTS)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
