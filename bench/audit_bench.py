"""Benchmark the audit log: append throughput, proof sizes and times, and the cost the
audit adds to a match query.

    .venv/bin/python bench/audit_bench.py [--tree 10000000] [--db 10000000]
        [--pg-db 10000000] [--pg-database NAME] [--batch 100] [--threads 16]
        [--verify-max N] [--stop-after SECONDS] [--merge]
        [--holders 1000] [--queries 200] [--warmup 100] [--skip tree,sqlite,pg,match]
        [--results PATH] [--pragma NAME=VALUE ...] [--no-wal-thread]

1. The tree in memory (``MemoryTree``) at ``--tree`` leaves: build rate, and the time
   to compute and to verify inclusion and consistency proofs (leaf hashes of
   synthetic bytes, so this measures the tree, not the entries).
2. The log in SQLite (synchronous=FULL, the default) filled with ``--db`` entries by
   ``--threads`` callers at once, each appending requests of one access record and
   ``--batch`` entries and waiting for each request's commit before its next
   (invariant 4); their requests share commits (group commit). At the size
   reached: one caller alone (each request its own commit, so bound by the
   store's fsync), 16 callers with pages of 10 entries, requests of one entry.
   PostgreSQL too when VG_TEST_POSTGRES_URL is set: ``--pg-db`` entries in a
   database of its own (``--pg-database``), created on that server and dropped
   afterwards. Then inclusion proofs read from the stored tiles, with an empty
   tile cache (cold), a warm one, and repeated (p50 and p95), consistency proofs,
   and ``verify`` if the log holds at most ``--verify-max`` leaves (it runs at
   some ten thousand leaves a second). Building the records is not timed (the
   request does that, not the log); encoding and hashing them is. The fill also
   splits its time (``StagedLog``, ``Clock``): the leading thread's write and commit
   stages and the callers' threads, each as CPU, run-queue wait and blocked time.
3. A candidate query (10 candidates) on ``--holders`` published holders, with the
   real audit log against one whose append does nothing: the median of each and the
   ratio, in wall-clock time, in the calling thread's CPU time and in the
   process's (the audit log's helper and WAL threads included). Twice: the page
   as ``Registry.candidates`` gives it (``page``), and the request as the HTTP
   route makes it, the page and its response body (``route``: the body is built
   while the log commits). Neither counts the HTTP server, routing or
   authentication, which add the same to both sides. ``--warmup`` queries of each
   kind run first and are not counted: a server that has been up a while has a WAL
   grown to its working size, while the first appends of a new process still extend
   the file (and ``fdatasync`` then also writes its new size).

Prints the figures and writes them to bench/results/audit.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy  # noqa: E402

from audit import AccessRecord, AuditEntry, AuditLog, Signer, make_engine  # noqa: E402
from audit.merkle import (  # noqa: E402
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from audit.note import open_checkpoint  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "audit.json"
SIGNER = Signer("bench.localhost/audit", bytes(range(32)))


class Clock:
    """Wall, thread CPU and run-queue wait (time runnable but not running, from
    /proc/thread-self/schedstat) of the calling thread, in seconds; what is left of
    the wall time once both are taken off is time blocked: on the disk (fsync,
    page reads), on a lock, on the GIL or on another thread."""

    def __init__(self) -> None:
        self.wall, self.cpu, self.runq = 0.0, 0.0, 0.0

    @staticmethod
    def now() -> tuple[float, float, float]:
        try:
            with open("/proc/thread-self/schedstat") as f:
                runq = int(f.read().split()[1]) / 1e9
        except OSError:
            runq = 0.0
        return time.perf_counter(), time.thread_time(), runq

    def add(self, start: tuple[float, float, float]) -> None:
        end = self.now()
        self.wall += end[0] - start[0]
        self.cpu += end[1] - start[1]
        self.runq += end[2] - start[2]

    def figures(self) -> dict[str, float]:
        blocked = self.wall - self.cpu - self.runq
        return {"wall_s": round(self.wall, 2), "cpu_s": round(self.cpu, 2),
                "runqueue_s": round(self.runq, 2), "blocked_s": round(blocked, 2)}


class StagedLog(AuditLog):
    """The log, with the leader's time per transaction split into its stages:
    ``write`` (head, tree, rows, tiles: everything inside the transaction) and
    ``commit`` (BEGIN, COMMIT with its fsync and any WAL checkpoint, and handing
    on the lead), each as wall, CPU, run-queue wait and blocked time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reset()

    def reset(self) -> None:
        self.lead, self.write = Clock(), Clock()
        self.transactions = self.records = 0

    def _lead(self) -> None:
        start = Clock.now()
        super()._lead()
        self.lead.add(start)

    def _append_locked(self, conn: Any, group: list, locked: bool = False) -> None:
        start = Clock.now()
        super()._append_locked(conn, group, locked)
        self.write.add(start)
        self.transactions += 1
        self.records += sum(len(w.records) for w in group)

    def stages(self) -> dict[str, Any]:
        commit = Clock()
        for name in ("wall", "cpu", "runq"):
            setattr(commit, name, getattr(self.lead, name) - getattr(self.write, name))
        return {"transactions": self.transactions,
                "records_per_transaction": round(self.records
                                                 / max(1, self.transactions)),
                "write": self.write.figures(), "commit": commit.figures()}


def median_us(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1e6, 2)


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


# --- 1. the tree in memory -----------------------------------------------------------


def bench_memory_tree(n: int, samples: int) -> dict[str, Any]:
    tree = MemoryTree()
    chunk = 100_000
    started = time.perf_counter()
    for start in range(0, n, chunk):
        tree.append([leaf_hash(i.to_bytes(8, "big"))
                     for i in range(start, min(n, start + chunk))])
    build_s = time.perf_counter() - started
    root = tree.root()
    rng = random.Random(1)
    make, check, sizes = [], [], []
    for _ in range(samples):
        index = rng.randrange(n)
        t = time.perf_counter()
        proof = inclusion_proof(index, n, tree.node)
        make.append(time.perf_counter() - t)
        t = time.perf_counter()
        verify_inclusion(index, n, tree.node(0, index), proof, root)
        check.append(time.perf_counter() - t)
        sizes.append(len(proof))
    old = n // 3 + 12345
    old_root = tree.root(old)
    c_make = timed(lambda: consistency_proof(old, n, tree.node), samples // 10)
    proof = consistency_proof(old, n, tree.node)
    c_check = timed(lambda: verify_consistency(old, n, old_root, root, proof),
                    samples // 10)
    return {
        "leaves": n, "build_s": round(build_s, 2),
        "build_leaves_per_s": round(n / build_s),
        "inclusion_make_us_p50": median_us(make),
        "inclusion_verify_us_p50": median_us(check),
        "inclusion_hashes_max": max(sizes),
        "inclusion_bytes_max": 32 * max(sizes),
        "consistency_make_us_p50": median_us(c_make),
        "consistency_verify_us_p50": median_us(c_check),
        "consistency_hashes": len(proof), "consistency_bytes": 32 * len(proof),
    }


# --- 2. the log in a database ----------------------------------------------------------


def request_records(n: int, k: int) -> list:
    """Request ``n``: one access record and ``k`` entries, as the gate writes them."""
    from tests.audit.records import T0

    when = T0 + timedelta(milliseconds=n)
    trace = uuid.UUID(int=n + 1).hex
    parent = f"{n + 1:016x}"
    access = AccessRecord(
        trace_id=trace, span_id=parent, occurred_at=when, actor=f"apikey:{n % 50}",
        organisation=f"GM{n % 342:04d}", role="staff",
        action="assignment-candidates", target=f"assignment {n % 1000}",
        result="disclosed", origin="api", subjects=k,
        reason="candidate for assignment")
    entries = [AuditEntry(
        trace_id=trace, span_id=f"{(n + 1) * 1000 + i + 1:016x}", parent_span_id=parent,
        name="assignment-candidates", started_at=when, ended_at=when,
        processing_activity="https://w3id.org/virtuele-gemeente/register#matching-v1",
        organisation=access.organisation, purpose="matching",
        subject=uuid.UUID(int=(n * k + i) % 200_000 + 7).hex,
        fields=("availability", "level", "skills"), grants=(f"urn:uuid:{trace}",),
        outcome="disclosed", reason="candidate for assignment") for i in range(k)]
    return [access, *entries]


def bench_database(log: AuditLog, entries: int, batch: int, threads: int,
                   samples: int, verify_max: int, stop_after_s: float
                   ) -> dict[str, Any]:
    log.create_tables()
    load = bench_load(log, entries, batch, threads, stop_after_s)
    first = load["requests"]
    concurrent = bench_concurrent(log, first + 1)
    sequential = bench_sequential(log, first + 10**6, batch)
    single = []
    for n in range(first + 2 * 10**6, first + 2 * 10**6 + 300):
        records = request_records(n, 1)
        t = time.perf_counter()
        log.append(records)
        single.append(time.perf_counter() - t)
    size = log.head().size
    t = time.perf_counter()
    checkpoint = open_checkpoint(log.checkpoint(records[0].occurred_at),
                                 SIGNER.verifier)
    sign_s = time.perf_counter() - t
    proofs = bench_proofs(log, size, checkpoint.root, samples)
    result = {
        "entries_planned": entries, **load, "leaves": size,
        "single_entry_request_p50_ms": round(statistics.median(single) * 1000, 3),
        "sequential": sequential, "concurrent": concurrent,
        "checkpoint_sign_ms": round(sign_s * 1000, 3),
        **proofs,
        "database_bytes": database_bytes(log),
    }
    if size <= verify_max:
        t = time.perf_counter()
        report = log.verify()
        verify_s = time.perf_counter() - t
        assert report.ok and report.size == size == checkpoint.size, report
        result.update(verify_s=round(verify_s, 2),
                      verify_leaves_per_s=round(size / verify_s))
    return result


def bench_load(log: AuditLog, entries: int, batch: int, threads: int,
               stop_after_s: float, chunk: int = 25) -> dict[str, Any]:
    """Fill the log: ``threads`` callers at once, each appending requests of one
    access record and ``batch`` entries and waiting for each to be durable before
    its next (invariant 4), as API workers do; their requests share commits (group
    commit). The records are built between timed rounds of ``chunk`` requests per
    caller, so only the log's work is timed (wall clock and process CPU)."""
    requests = entries // batch
    append_s = append_cpu_s = window_s = window_cpu_s = 0.0
    window_n = done = 0
    latencies: list[float] = []
    progress: list[dict[str, Any]] = []
    report_every = max(1, requests // 40)
    callers = Clock()
    if isinstance(log, StagedLog):
        log.reset()
    started = time.monotonic()
    while done < requests:
        if time.monotonic() - started > stop_after_s:
            print(f"  stopped after {stop_after_s:.0f} s at {done * batch:,} entries")
            break
        n = min(threads * chunk, requests - done)
        work = [[request_records(done + i, batch) for i in range(t, n, threads)]
                for t in range(threads)]
        spent, cpu = run_callers(log, work, latencies, callers)
        append_s, append_cpu_s, window_s = append_s + spent, append_cpu_s + cpu, \
            window_s + spent
        window_cpu_s += cpu
        window_n += n * batch
        before, done = done, done + n
        if before // report_every != done // report_every or done == requests:
            progress.append({"entries": done * batch,
                             "entries_per_s": round(done * batch / append_s),
                             "since_last_entries_per_s": round(window_n / window_s),
                             "since_last_cpu_us_per_entry": round(
                                 window_cpu_s / window_n * 1e6, 2),
                             "wall_s": round(time.monotonic() - started),
                             "load_1": round(os.getloadavg()[0], 1)})
            window_s, window_cpu_s, window_n = 0.0, 0.0, 0
            print(f"  {progress[-1]}", flush=True)
    return {
        "stopped_early": done < requests, "entries": done * batch,
        "requests": done, "batch_entries": batch, "threads": threads,
        "append_s": round(append_s, 2),
        "entries_per_s": round(done * batch / append_s),
        "leaves_per_s": round(done * (batch + 1) / append_s),
        # CPU time of this process in append (not the PostgreSQL server's): what
        # idle cores would sustain, leaving out waiting for the disk and the CPU.
        "append_cpu_s": round(append_cpu_s, 2),
        "entries_per_cpu_s": round(done * batch / append_cpu_s),
        "request_p50_ms": round(statistics.median(latencies) * 1000, 3),
        "request_p99_ms": round(percentile(latencies, 0.99) * 1000, 3),
        # Where the time went: the callers' threads together (mostly waiting for
        # the commit of their group), and the leading thread's stages.
        "callers": callers.figures(),
        **(log.stages() if isinstance(log, StagedLog) else {}),
        "progress": progress,
    }


def run_callers(log: AuditLog, work: list[list[list]], latencies: list[float],
                callers: Clock | None = None) -> tuple[float, float]:
    """One thread per list of requests, started together; wall and CPU seconds.
    With ``callers``, the callers' own times are added to it."""
    lock = threading.Lock()
    start = threading.Barrier(len(work) + 1)

    def caller(requests: list) -> None:
        start.wait()
        begun = Clock.now()
        for records in requests:
            t = time.perf_counter()
            log.append(records)
            latencies.append(time.perf_counter() - t)
        if callers is not None:
            with lock:
                callers.add(begun)

    pool = [threading.Thread(target=caller, args=(w,)) for w in work]
    for thread in pool:
        thread.start()
    start.wait()
    t, cpu = time.perf_counter(), time.process_time()
    for thread in pool:
        thread.join()
    return time.perf_counter() - t, time.process_time() - cpu


def bench_sequential(log: AuditLog, first: int, batch: int,
                     requests: int = 300) -> dict[str, Any]:
    """One caller alone, request after request: each waits for its own durable
    commit, so this is bound by the store's commit (an fsync) more than by the log."""
    latencies: list[float] = []
    spent, cpu = run_callers(
        log, [[request_records(first + i, batch) for i in range(requests)]],
        latencies)
    return {"requests": requests, "entries_per_request": batch,
            "entries_per_s": round(requests * batch / spent),
            "entries_per_cpu_s": round(requests * batch / cpu),
            "request_p50_ms": round(statistics.median(latencies) * 1000, 3),
            "request_p99_ms": round(percentile(latencies, 0.99) * 1000, 3)}


def percentile(samples: list[float], q: float) -> float:
    return sorted(samples)[min(len(samples) - 1, int(q * len(samples)))]


def bench_proofs(log: AuditLog, size: int, root: bytes, samples: int
                 ) -> dict[str, Any]:
    """Inclusion proofs of random leaves, each read from the store on its own and
    checked against the root: first by a log whose tile cache is empty (a fresh
    process: every tile read and expanded), then more random leaves once that
    cache is warm (tiles above the leaves cached, a leaf's own tile mostly not),
    then those same leaves again (every full tile cached, only the partial ones
    read). Consistency proofs from random earlier sizes after that."""
    fresh = AuditLog(log.engine, signer=SIGNER)
    rng = random.Random(2)
    cold = [rng.randrange(size) for _ in range(samples)]
    warm = [rng.randrange(size) for _ in range(samples)]
    figures: dict[str, Any] = {}
    for name, indices in (("cold", cold), ("warm", warm), ("repeat", warm)):
        times, sizes = [], []
        for index in indices:
            t = time.perf_counter()
            proof = fresh.inclusion(index, size)
            times.append(time.perf_counter() - t)
            sizes.append(len(proof.hashes))
        figures[f"inclusion_{name}_us_p50"] = median_us(times)
        figures[f"inclusion_{name}_us_p95"] = round(percentile(times, 0.95) * 1e6, 1)
    consistency, consistency_sizes = [], []
    for _ in range(max(10, samples // 5)):
        old = rng.randrange(1, size)
        t = time.perf_counter()
        proof = fresh.consistency(old, size)
        consistency.append(time.perf_counter() - t)
        consistency_sizes.append(len(proof.hashes))
    for index in cold[:20]:  # proofs are checked, so the figures are real
        record = fresh.record_at(index)
        if record is not None:
            verify_inclusion(index, size, leaf_hash(record.canonical_bytes()),
                             fresh.inclusion(index, size).hashes, root)
    return {
        **figures,
        "inclusion_proof_hashes_max": max(sizes),
        "inclusion_proof_bytes_max": 32 * max(sizes),
        "consistency_proof_us_p50": median_us(consistency),
        "consistency_proof_us_p95": round(percentile(consistency, 0.95) * 1e6, 1),
        "consistency_proof_hashes_max": max(consistency_sizes),
        "consistency_proof_bytes_max": 32 * max(consistency_sizes),
    }


def database_bytes(log: AuditLog) -> int | None:
    with log.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
            return int(pages) * int(conn.exec_driver_sql("PRAGMA page_size").scalar())
        return int(conn.exec_driver_sql(
            "SELECT pg_database_size(current_database())").scalar())


def bench_concurrent(log: AuditLog, first: int, threads: int = 16,
                     per_thread: int = 200, page: int = 10) -> dict[str, Any]:
    """Requests of one page (``page`` entries) from ``threads`` threads at once, as
    API workers would send them: the group commit shares transactions among them."""
    work = [[request_records(first + t * per_thread + i, page) for i in range(per_thread)]
            for t in range(threads)]
    latencies: list[float] = []
    elapsed, cpu = run_callers(log, work, latencies)
    entries = threads * per_thread * page
    return {"threads": threads, "entries_per_request": page, "entries": entries,
            "entries_per_s": round(entries / elapsed),
            "entries_per_cpu_s": round(entries / cpu),
            "request_p50_ms": round(statistics.median(latencies) * 1000, 3),
            "request_p99_ms": round(sorted(latencies)[int(0.99 * len(latencies))]
                                    * 1000, 3)}


def sqlite_log(workdir: str, pragmas: list[str], wal_thread: bool = True
               ) -> tuple[AuditLog, Callable[[], None]]:
    engine = make_engine(f"sqlite:///{workdir}/audit.db")
    if pragmas:  # trial settings, on top of make_engine's
        @sqlalchemy.event.listens_for(engine, "connect")
        def on_connect(dbapi_connection: Any, _record: Any) -> None:
            for pragma in pragmas:
                dbapi_connection.execute(f"PRAGMA {pragma}")
    return StagedLog(engine, signer=SIGNER, wal_thread=wal_thread), engine.dispose


def postgres_log(url: str, database: str) -> tuple[AuditLog, Callable[[], None]]:
    """A log in a database of its own on the server of ``url``, dropped after."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", database):
        raise SystemExit("--pg-database must be a lowercase SQL identifier")
    server = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {database}")
        conn.exec_driver_sql(f"CREATE DATABASE {database}")
    engine = make_engine(sqlalchemy.make_url(url).set(database=database))
    log = StagedLog(engine, signer=SIGNER)

    def cleanup() -> None:
        engine.dispose()
        with server.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {database}")
        server.dispose()

    return log, cleanup


# --- 3. the cost on a match query ------------------------------------------------------


class NoAuditLog(AuditLog):
    """The baseline: an audit log whose append does nothing (never use it)."""

    def append(self, records):  # type: ignore[override]
        return []

    def append_while(self, records, work):  # type: ignore[override]
        return work()


def bench_match(holders: int, queries: int, workdir: str, warmup: int = 0
                ) -> dict[str, Any]:
    from registry import Registry
    from tests.factories import (
        NOW,
        assignment,
        disclosure,
        full_workcontext,
        holder_key,
        running_system,
        signed_grant,
        skill_pool,
        staff_requester,
    )
    from vg.api.organisation import candidates_response

    rng = random.Random(3)
    with running_system(Path(workdir) / "system") as system:
        pool = skill_pool()
        t = time.perf_counter()
        for n in range(holders):
            key = holder_key(n)
            skills = tuple(rng.sample(pool, 3))
            document = full_workcontext(key.did, skills=skills,
                                        level_rank=1 + n % 5, hours_per_week=8 + n % 30)
            grant = signed_grant(key, ["skills", "level", "hours_per_week"],
                                 to={"kind": "all_municipalities"})
            system.registry.receive_disclosure(disclosure(key, grant, 1, document),
                                               NOW)
        publish_s = time.perf_counter() - t
        requester = staff_requester(system)
        job = assignment(system, requester)
        audited = system.registry
        unaudited = Registry(audited.engine, system.reference,
                             NoAuditLog(system.audit.engine, signer=SIGNER),
                             system.pseudonym_secret)
        samples: dict[tuple[str, bool], list[tuple[float, float, float]]] = {
            (path, audit): [] for path in ("page", "route") for audit in (True, False)}

        def route(page):  # the API's answer: pseudonyms shown to this organisation
            return candidates_response(page, system, requester.organisation)

        for q in range(-warmup, queries):  # alternate, so drift hits both alike
            for path, render in (("page", None), ("route", route)):
                for registry, audit in ((audited, True), (unaudited, False)):
                    trace = f"{q + warmup + 1:08x}{len(path):024x}"
                    t, c = time.perf_counter(), time.thread_time()
                    p = time.process_time()
                    answer = registry.candidates(requester, job.id, NOW, trace,
                                                 limit=10, render=render)
                    if q >= 0:
                        samples[path, audit].append((time.perf_counter() - t,
                                                     time.thread_time() - c,
                                                     time.process_time() - p))
                    assert render or len(answer.candidates) == 10
        logged = system.audit.count()
    figures: dict[str, Any] = {
        "holders": holders, "publish_s": round(publish_s, 1),
        "queries": queries, "warmup_queries": warmup, "candidates_per_page": 10,
        "entries_logged": logged}
    for path in ("page", "route"):
        figures[path] = match_figures(samples[path, True], samples[path, False])
    # The headline figures are the route's: what an HTTP match does.
    return {**figures, **figures["route"]}


def match_figures(audited: list[tuple[float, float, float]],
                  unaudited: list[tuple[float, float, float]]) -> dict[str, Any]:
    """Medians with and without the audit, and their ratio: wall clock, the
    calling thread's CPU (user and system, the fsync's included; on a busy
    machine the wall-clock figures mostly measure the wait for a core) and the
    process's CPU (the work the log hands to its threads included)."""
    def ms(values: list[float]) -> float:
        return round(statistics.median(values) * 1000, 3)

    out: dict[str, Any] = {}
    for n, name in enumerate(("", "_cpu", "_process_cpu")):
        with_audit = [s[n] for s in audited]
        without = [s[n] for s in unaudited]
        out[f"with_audit{name}_ms_p50"] = ms(with_audit)
        out[f"without_audit{name}_ms_p50"] = ms(without)
        out[f"ratio{name}"] = round(statistics.median(with_audit)
                                    / statistics.median(without), 3)
    return out


def environment(pg_url: str | None) -> dict[str, Any]:
    env: dict[str, Any] = {
        "python": platform.python_version(), "sqlalchemy": sqlalchemy.__version__,
        "sqlite": sqlite3.sqlite_version, "cpus": os.cpu_count(),
        "machine": platform.machine(), "system": platform.platform(),
        "temp_dir": tempfile.gettempdir(),
        # The machine is shared: a load above the 2 cores slows every figure.
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if pg_url:
        engine = make_engine(pg_url)
        with engine.connect() as conn:
            env["postgres"] = conn.exec_driver_sql("SHOW server_version").scalar()
        engine.dispose()
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=int, default=10_000_000)
    parser.add_argument("--db", type=int, default=10_000_000)
    parser.add_argument("--pg-db", type=int, default=10_000_000)
    parser.add_argument("--pg-database", default="vg_audit_bench")
    parser.add_argument("--verify-max", type=int, default=1_000_000)
    parser.add_argument("--stop-after", type=float, default=float("inf"),
                        help="stop appending after this many seconds (a shared "
                        "machine); the figures are then for the size reached")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--threads", type=int, default=16,
                        help="callers appending at once while the log is filled")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--holders", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=100,
                        help="match queries of each kind run first, not counted")
    parser.add_argument("--skip", default="", help="comma list: tree,sqlite,pg,match")
    parser.add_argument("--merge", action="store_true",
                        help="keep the sections of results/audit.json not run now")
    parser.add_argument("--pragma", action="append", default=[],
                        help="trial SQLite setting, e.g. wal_autocheckpoint=10000")
    parser.add_argument("--no-wal-thread", action="store_true",
                        help="SQLite checkpoints inside the commit, as before")
    parser.add_argument("--results", type=Path, default=RESULTS,
                        help="where to write the figures (trial runs: elsewhere)")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    pg_url = os.environ.get("VG_TEST_POSTGRES_URL")
    results: dict[str, Any] = {}
    if "tree" not in skip:
        print(f"tree in memory, {args.tree:,} leaves", flush=True)
        results["memory_tree"] = bench_memory_tree(args.tree, args.samples)
        print(json.dumps(results["memory_tree"]), flush=True)
    # The WAL checkpoint thread may still touch the folder as it goes.
    with tempfile.TemporaryDirectory(prefix="vg-audit-bench-",
                                     ignore_cleanup_errors=True) as workdir:
        targets = []
        if "sqlite" not in skip:
            targets.append(("sqlite_full", args.db, lambda: sqlite_log(
                workdir, args.pragma, not args.no_wal_thread)))
        if pg_url and "pg" not in skip:
            targets.append(("postgres", args.pg_db,
                            lambda: postgres_log(pg_url, args.pg_database)))
        for name, size, fresh in targets:
            print(f"{name}, {size:,} entries in requests of {args.batch}", flush=True)
            log, cleanup = fresh()
            try:
                results[name] = bench_database(log, size, args.batch, args.threads,
                                               args.samples, args.verify_max,
                                               args.stop_after)
            finally:
                cleanup()
            print(json.dumps(results[name]), flush=True)
        if "match" not in skip:
            print(f"match query, {args.holders:,} holders", flush=True)
            results["match"] = bench_match(args.holders, args.queries, workdir,
                                           args.warmup)
            print(json.dumps(results["match"]), flush=True)
    parameters = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    run = {"parameters": parameters, "environment": environment(pg_url)}
    for section in results.values():
        section["run"] = run  # sections may come from separate runs (--merge)
    if args.merge and args.results.exists():
        results = {**json.loads(args.results.read_text())["results"], **results}
    output = {"targets": {"entries_per_s": 50_000, "proof_ms": 1.0,
                          "match_ratio": 1.1},
              "results": results}
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(output, indent=2) + "\n")
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
