"""Benchmark the pod: Workcontext reads and writes through the HTTP API, binary
encryption against the raw cipher, memory during a 1 GB upload, and the Community
Solid Server on the same machine with the same load generator.

    .venv/bin/python bench/pod_bench.py [--seconds 10] [--reps 3] [--no-css]
        [--upload-gib 1] [--only-http | --only-upload]

- HTTP: the pod runs in uvicorn with one worker and with two (``vg serve
  --workers``); wrk drives it. GET reads the Workcontext (decrypt, ETag); PUT stores
  a new version (validate with SHACL, encrypt, commit durably; concurrent writers
  share a commit) with no live grant, so nothing is published.
- The Community Solid Server 7.2.0 is installed with npm into a temporary folder and
  run with its file backend and no authentication. It listens on every interface,
  so the whole HTTP comparison (both servers and wrk) runs in a network namespace
  that has only loopback, made for the run and deleted afterwards. Both servers get
  the same 3-4 KB Workcontext with the same wrk settings; the Solid server gets it
  with the shipped context inlined, so it has nothing to fetch.
- Encryption: the chunked XChaCha20-Poly1305 of pod/binaries.py on 1 MB and 64 MB in
  memory, against one libsodium call over the whole buffer, in the same process;
  and the BinaryWriter end to end (file writes and fsync included).
- Memory: the server's RSS at rest, its peak RSS (VmHWM) while streaming 1 GiB in,
  and its RSS once it has also stored a Workcontext (ESCO, pyld and rdflib loaded).

Prints the figures and writes them to bench/results/pod.json. Needs wrk (installed
with apt-get when missing), and for the Solid server node, npm and root (``ip netns``).
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
CSS_PORT = 3000
DOCUMENT_BYTES = 3500  # the Workcontext grows by skills until it is this large
GET_CONNECTIONS, PUT_CONNECTIONS = 64, 8
SERVER = """
import uvicorn
uvicorn.run("vg.app:app_from_environment", factory=True, host="127.0.0.1",
            port={port}, workers={workers}, log_level="warning", access_log=False)
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


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


def wrk(url: str, connections: int, seconds: int, lua: Path | None = None,
        headers: list[str] = ()) -> dict:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    if lua:
        command += ["-s", str(lua)]
    output = subprocess.run(command + [url], capture_output=True, text=True,
                            check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    timeouts = re.search(r"timeout (\d+)", output)
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", output)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {"rps": rate, "non2xx": int(errors.group(1)) if errors else 0,
            "timeouts": int(timeouts.group(1)) if timeouts else 0,
            "p50_ms": float(p50.group(1)) * scale[p50.group(2)] if p50 else None}


def median_runs(runs: list[dict]) -> dict:
    return {"rps_median": statistics.median(r["rps"] for r in runs),
            "rps_runs": [round(r["rps"], 1) for r in runs],
            "p50_ms_runs": [r["p50_ms"] for r in runs],
            "non2xx_runs": [r["non2xx"] for r in runs],
            "timeouts_runs": [r["timeouts"] for r in runs]}


def load(url: str, seconds: int, reps: int, put_lua: Path,
         get_headers: list[str]) -> dict:
    """The same wrk settings for every server: GET first, then PUT."""
    get = [wrk(url, GET_CONNECTIONS, seconds, headers=get_headers) for _ in range(reps)]
    put = [wrk(url, PUT_CONNECTIONS, seconds, lua=put_lua) for _ in range(reps)]
    return {f"get_c{GET_CONNECTIONS}": median_runs(get),
            f"put_c{PUT_CONNECTIONS}": median_runs(put)}


def peak_rss_mb(pid: int) -> tuple[float, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
    hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
    return rss, hwm


def workcontext_document(did: str) -> dict:
    """A realistic 3-4 KB Workcontext: the tests' full example with as many real
    ESCO skills as make it DOCUMENT_BYTES long."""
    from tests.factories import full_workcontext, reference

    skills = sorted(reference().skills)
    count = 3
    while True:
        document = full_workcontext(did, skills=tuple(skills[:count]))
        # The pod writes the rating summary itself and leaves it out while the pod
        # has received no rating; a document with one would not read back equal.
        document.pop("ratingSummary", None)
        if len(json.dumps(document)) >= DOCUMENT_BYTES:
            return document
        count += 1


# -- the pod server ------------------------------------------------------------------------
class PodServer:
    def __init__(self, data: Path, workers: int = 1):
        from vg.settings import Settings
        from vg.wiring import build_system

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # The databases are made once here, so that workers do not race to make them.
        build_system(Settings(data_dir=data, kdf_level="interactive"))
        env = {**os.environ, "PYTHONPATH": str(REPO), "VG_DATA_DIR": str(data),
               "VG_KDF_LEVEL": "interactive"}
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER.format(port=self.port, workers=workers)],
            cwd=REPO, env=env)
        # Any answer means it listens; not the OpenAPI document, whose generation
        # would add its few MB to the memory measured at rest.
        wait_for(self.base + "/api/v1/")

    def serving_pid(self) -> int:
        """The worker when there is one, else the server process itself."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = children.read_text().split() if children.exists() else []
        return int(pids[0]) if pids else self.process.pid

    def peak_rss_mb(self) -> tuple[float, float]:
        return peak_rss_mb(self.serving_pid())

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def pod_http(seconds: int, reps: int, work: Path, workers: int) -> dict:
    server = PodServer(work / f"http-{workers}", workers)
    try:
        client = httpx.Client(base_url=server.base, timeout=60)
        created = client.post("/api/v1/pods", json={"passphrase": PASSPHRASE}).json()
        bearer = f"Bearer {created['session']}"
        body = json.dumps(workcontext_document(created["did"])).encode()
        url = f"{server.base}/api/v1/pods/{_pod_id(created['did'])}/werkcontext"
        saved = client.put(url, content=body, headers={
            "Authorization": bearer, "Content-Type": "application/ld+json"})
        assert saved.status_code == 200, saved.text
        read = client.get(url, headers={"Authorization": bearer})
        assert read.json() == json.loads(body)
        (work / "body.json").write_bytes(body)
        lua = work / "put.lua"
        lua.write_text(PUT_LUA.format(ctype="application/ld+json",
                                      auth=f'wrk.headers["Authorization"] = "{bearer}"',
                                      body=work / "body.json"))
        started_at_load = os.getloadavg()
        figures = load(url, seconds, reps, lua, [f"Authorization: {bearer}"])
        versions = client.get(url.removesuffix("werkcontext") + "versies/",
                              headers={"Authorization": bearer}).json()["contains"]
        return {"workers": workers, "document_bytes": len(body), **figures,
                "versions_after": len(versions),
                "load_average_at_start": started_at_load}
    finally:
        server.stop()


def _pod_id(did: str) -> str:
    return PodStore(Path("/nonexistent"), kdf_cost=INTERACTIVE).pod_id(did)


# -- encryption throughput -------------------------------------------------------------------
def encryption(work: Path, reps: int) -> dict:
    """The pod's chunked encryption against two raw-cipher baselines: one libsodium
    call over the whole buffer, and libsodium called on 64 KiB pieces with no pod
    framing. The headline ratio is to the faster of the two."""
    results = {"load_average_at_start": os.getloadavg()}
    store = PodStore(work / "enc", kdf_cost=INTERACTIVE)
    from datetime import datetime, timezone

    now = datetime.now(timezone.utc)
    pod = store.create(PASSPHRASE, now)
    for size in (1 << 20, 64 << 20):
        data = os.urandom(size)
        key, nonce = crypto.random_key(), os.urandom(24)
        whole, pieces, chunked, writer = _interleaved(reps, [
            lambda: _raw_whole(data, key, nonce), lambda: _raw_pieces(data, key, nonce),
            lambda: _chunked(data, key), lambda: _write(pod, data, now)])
        raw = min(whole, pieces)
        mb = size / 1e6
        results[f"{size >> 20}MiB"] = {
            "raw_cipher_one_call_MBps": round(mb / whole, 1),
            "raw_cipher_64KiB_calls_MBps": round(mb / pieces, 1),
            "chunked_MBps": round(mb / chunked, 1),
            "chunked_over_raw": round(raw / chunked, 3),
            "binarywriter_with_io_MBps": round(mb / writer, 1),
            "binarywriter_over_raw": round(raw / writer, 3),
        }
    return results


def _raw_whole(data: bytes, key: bytes, nonce: bytes) -> None:
    nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(data, b"", nonce, key)


def _raw_pieces(data: bytes, key: bytes, nonce: bytes) -> None:
    """Speed only: one key and nonce for every piece, the output thrown away."""
    view = memoryview(data)
    for start in range(0, len(data), CHUNK):
        nacl.bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
            bytes(view[start:start + CHUNK]), b"", nonce, key)


def _interleaved(reps: int, actions: list) -> list[float]:
    """The median of at least nine timings of each action, after one warm-up call
    each, taken in rounds (one of each action per round), so that a burst of load
    from elsewhere on the machine falls on all of them alike rather than on one."""
    for action in actions:
        action()
    times: list[list[float]] = [[] for _ in actions]
    for _ in range(max(reps, 9)):
        for action, taken in zip(actions, times):
            start = time.perf_counter()
            action()
            taken.append(time.perf_counter() - start)
    return [statistics.median(taken) for taken in times]


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
        before_rss, startup_hwm = server.peak_rss_mb()
        # Reset the kernel's peak-RSS mark (proc(5), clear_refs "5"), so VmHWM
        # afterwards is the peak during the upload, not the one set at start-up.
        Path(f"/proc/{server.serving_pid()}/clear_refs").write_text("5")
        _, before_hwm = server.peak_rss_mb()
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
        _, after_hwm = server.peak_rss_mb()
        start = time.perf_counter()
        got = 0
        with client.stream("GET", url, headers=headers) as stream:
            for chunk in stream.iter_bytes():
                got += len(chunk)
        download_s = time.perf_counter() - start
        assert got == size
        # What the process holds once it has also stored a Workcontext: the first
        # write reads ESCO and loads rdflib (for the shapes compiler).
        document = json.dumps(workcontext_document(created["did"])).encode()
        saved = client.put(url.replace("bestanden/intro.mp4", "werkcontext"),
                           content=document,
                           headers={**headers, "Content-Type": "application/ld+json"})
        assert saved.status_code == 200, saved.text
        after_write, _ = server.peak_rss_mb()
        return {"bytes": size, "rss_before_MB": round(before_rss, 1),
                "peak_rss_at_startup_MB": round(startup_hwm, 1),
                "peak_rss_during_upload_MB": round(after_hwm, 1),
                "peak_growth_during_upload_MB": round(after_hwm - before_rss, 1),
                "rss_after_a_workcontext_write_MB": round(after_write, 1),
                "load_average_at_start": os.getloadavg(),
                "upload_MBps": round(size / 1e6 / upload_s, 1),
                "download_MBps": round(size / 1e6 / download_s, 1)}
    finally:
        server.stop()


# -- the Community Solid Server ------------------------------------------------------------
def install_css(folder: Path) -> Path:
    """npm's ordinary client, from the registry, into a temporary folder."""
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error",
                    f"@solid/community-server@{CSS_VERSION}"], cwd=folder,
                   check=True, capture_output=True, timeout=900)
    return folder / "node_modules" / ".bin" / "community-solid-server"


def css(seconds: int, reps: int, body: bytes, work: Path, binary: Path) -> dict:
    """The Solid server with its file backend and public (no authentication) root.

    ``-b`` sets the base URL to the address wrk uses: without it the server takes
    its base to be http://localhost:3000/ and answers 500 for every other host
    name ("outside the configured identifier space").
    """
    data = work / "css-data"
    base = f"http://127.0.0.1:{CSS_PORT}/"
    process = subprocess.Popen(
        [str(binary), "-c", "@css:config/file-root.json", "-f", str(data),
         "-p", str(CSS_PORT), "-b", base, "-l", "warn"],
        cwd=binary.parents[2], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(base, 180)
        url = base + "profile.jsonld"
        inline = work / "css-body.json"
        inline.write_bytes(_inline_context(body))
        headers = {"Content-Type": "application/ld+json"}
        first = httpx.put(url, content=inline.read_bytes(), headers=headers, timeout=60)
        again = httpx.put(url, content=inline.read_bytes(), headers=headers, timeout=60)
        read = httpx.get(url, headers={"Accept": "application/ld+json"}, timeout=60)
        if first.status_code != 201 or again.status_code not in (200, 204, 205) or \
                read.status_code != 200 or \
                read.json() != json.loads(inline.read_bytes()):
            raise RuntimeError(f"the Solid server did not store the document: PUT "
                               f"{first.status_code}, PUT {again.status_code}, GET "
                               f"{read.status_code}")
        lua = work / "css-put.lua"
        lua.write_text(PUT_LUA.format(ctype="application/ld+json", auth="",
                                      body=inline))
        started_at_load = os.getloadavg()
        figures = load(url, seconds, reps, lua, ["Accept: application/ld+json"])
        return {"version": CSS_VERSION, "load_average_at_start": started_at_load,
                "config": "file-root (file backend, public root)",
                "document_bytes": inline.stat().st_size, **figures}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _inline_context(body: bytes) -> bytes:
    from schemas import ShippedContextLoader

    document = json.loads(body)
    shipped = ShippedContextLoader()(document["@context"], {})["document"]
    return json.dumps({**document, "@context": shipped["@context"]}).encode()


def http_comparison(seconds: int, reps: int, work: Path,
                    css_binary: Path | None) -> dict:
    """Run where only loopback exists (inside the namespace when the peer runs)."""
    results = {}
    for workers in (1, 2):
        figures = pod_http(seconds, reps, work, workers)
        results[f"pod_{workers}_worker"] = figures
        print(f"pod {workers} worker(s):", _summary(figures), flush=True)
    if css_binary is None:
        return results
    body = (work / "body.json").read_bytes()
    results["css"] = peer = css(seconds, reps, body, work, css_binary)
    print("Solid server:", _summary(peer), flush=True)
    failed = sum(peer[k]["non2xx_runs"][i] for k in (GET_KEY, PUT_KEY)
                 for i in range(reps))
    if failed or not (peer[GET_KEY]["rps_median"] and peer[PUT_KEY]["rps_median"]):
        results["css"]["invalid"] = (f"{failed} non-2xx answers or a rate of zero; "
                                     "no ratio is given")
        return results
    results["ratio_to_css"] = {
        name: {"get": round(results[name][GET_KEY]["rps_median"]
                            / peer[GET_KEY]["rps_median"], 1),
               "put": round(results[name][PUT_KEY]["rps_median"]
                            / peer[PUT_KEY]["rps_median"], 1)}
        for name in ("pod_1_worker", "pod_2_worker")}
    print("ratio to the Solid server:", results["ratio_to_css"], flush=True)
    return results


GET_KEY, PUT_KEY = f"get_c{GET_CONNECTIONS}", f"put_c{PUT_CONNECTIONS}"


def _set_put_connections(count: int) -> None:
    """PUT's concurrency for this run, for our server and the Solid server alike.
    The default, 8, is what every published figure used; 64 is GET's."""
    global PUT_CONNECTIONS, PUT_KEY
    if count < 1:
        raise SystemExit("--put-connections must be at least 1")
    PUT_CONNECTIONS, PUT_KEY = count, f"put_c{count}"


def _summary(figures: dict) -> str:
    get, put = figures[GET_KEY], figures[PUT_KEY]
    return (f"GET {get['rps_median']} req/s {get['rps_runs']}, "
            f"PUT {put['rps_median']} req/s {put['rps_runs']}")


def in_namespace(args, work: Path) -> dict:
    """Install the Solid server (this needs the registry, so outside the namespace),
    then run the comparison in a fresh namespace with only ``lo``, then delete it."""
    folder = Path(tempfile.mkdtemp(prefix="vg-css-"))
    out = work / "http.json"
    try:
        binary = install_css(folder)
        subprocess.run(["ip", "netns", "add", NETNS], check=True)
        subprocess.run(["ip", "netns", "exec", NETNS, "ip", "link", "set", "lo", "up"],
                       check=True)
        links = subprocess.run(["ip", "netns", "exec", NETNS, "ip", "-o", "link"],
                               capture_output=True, text=True, check=True).stdout
        assert [line.split(":")[1].strip() for line in links.splitlines()] == ["lo"]
        subprocess.run(["ip", "netns", "exec", NETNS, sys.executable, __file__,
                        "--inside", str(work), "--css-binary", str(binary),
                        "--seconds", str(args.seconds), "--reps", str(args.reps),
                        "--put-connections", str(PUT_CONNECTIONS)],
                       check=True)
        return json.loads(out.read_text())
    finally:
        subprocess.run(["ip", "netns", "del", NETNS], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


# -- main ------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--upload-gib", type=float, default=1.0)
    parser.add_argument("--no-css", action="store_true")
    parser.add_argument("--put-connections", type=int, default=PUT_CONNECTIONS,
                        help="wrk connections for PUT, the same for both servers "
                             f"(default {PUT_CONNECTIONS})")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--only-http", action="store_true",
                      help="keep the other figures in the results file")
    only.add_argument("--only-upload", action="store_true",
                      help="measure the memory during the upload alone, keeping the "
                           "other figures in the results file")
    parser.add_argument("--inside", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--css-binary", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    _set_put_connections(args.put_connections)
    os.environ.setdefault("VG_REFERENCE_DIR", str((REPO.parent / "shared" / "data")))
    if args.inside:
        figures = http_comparison(args.seconds, args.reps, args.inside, args.css_binary)
        (args.inside / "http.json").write_text(json.dumps(figures))
        return
    if shutil.which("wrk") is None and not args.only_upload:
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)

    work = Path(tempfile.mkdtemp(prefix="vg-pod-bench-"))
    try:
        results = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                               "platform": platform.platform(),
                               "load_average_at_start": os.getloadavg()},
                   "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                   "seconds": args.seconds, "reps": args.reps,
                   "connections": {"get": GET_CONNECTIONS, "put": PUT_CONNECTIONS},
                   "load_generator": "wrk -t1, unpinned, same namespace as the servers"}
        if args.only_http or args.only_upload:
            kept = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
            results = {**kept, **results}
        if not args.only_http:
            if not args.only_upload:
                results["encryption"] = encryption(work, args.reps)
                print("encryption", json.dumps(results["encryption"]), flush=True)
            results["upload"] = upload_memory(work, args.upload_gib)
            print("upload", json.dumps(results["upload"]), flush=True)
        if not args.only_upload:
            for stale in ("pod_http", "css", "ratio_to_css", "pod_1_worker",
                          "pod_2_worker"):
                results.pop(stale, None)
            if args.no_css:
                results.update(http_comparison(args.seconds, args.reps, work, None))
            else:
                results.update(in_namespace(args, work))
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        print("written to", RESULTS)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
