"""Where a bulk ingest's time goes: the workers' checks, this process's steps and
its database writes per table, the wait for the workers, and how busy the cores were.

    .venv/bin/python bench/ingest_split.py --backend sqlite --n 100000 --limit 40000
    .venv/bin/python bench/ingest_split.py --backend postgres --n 1000000 \\
        --url postgresql+psycopg://postgres@127.0.0.1:5432/postgres --database NAME

Ingests the first ``--limit`` documents of the registry benchmark's data set into a
fresh registry (SQLite file under var/bench, or a PostgreSQL database created and
dropped here) with timers around the steps of ``registry.bulk`` and
``registry.bulk_rows``: the wall time and the CPU time of this process's main
thread inside each. A write to ``match_disclosure`` includes its change-log
triggers (``--no-triggers`` drops them first, to show their share; never do that
outside a benchmark). "wait for the workers" is the
main thread blocked on the workers' results. The workers' CPU time, the CPU time
of this process's other threads (the pool's feeder and result threads: pickling
the texts out and the results back) and, from /proc/stat, how busy the machine's
cores were during the run (every process on the machine, not only this one) are
reported beside them. On PostgreSQL the server's share is reported too: the
user and system time of the backends serving this database (from /proc, so the
server must run on this machine), counted from the start of the load to its
end; the server's shared processes (WAL writer, checkpointer) are not among them.
Figures go to bench/results/ingest_split.json under the backend's name (or
``--label``), with the commit measured.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import itertools
import json
import os
import resource
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.registry_bench import DATA_DIR, SEED, _admin, _organisations  # noqa: E402
from bench.registry_bench import engine_for, machine  # noqa: E402
from bench.registry_synth import NOW, cached, read_cached  # noqa: E402
from registry import bulk, bulk_rows, bulk_state  # noqa: E402
from registry.service import Registry  # noqa: E402
from registry.db import create_tables  # noqa: E402
from audit import AuditLog  # noqa: E402
from schemas import load_reference_data  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "ingest_split.json"

# (wall seconds, main-thread CPU seconds, calls) per step name
SPENT: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
_DEPTH = [0]


def _timed(name: str, fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        label = name(*args) if callable(name) else name
        w0, c0 = time.perf_counter(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            entry = SPENT[label]
            entry[0] += time.perf_counter() - w0
            entry[1] += time.thread_time() - c0
            entry[2] += 1
    return wrapper


def _table_name(*args) -> str:
    for value in args:
        name = getattr(value, "name", None)
        if isinstance(name, str):
            return f"write {name}"
    return "write ?"


def instrument() -> None:
    """Wrap the steps of bulk ingest, where its modules look them up."""
    for module in (bulk, bulk_rows, bulk_state):
        for attr in ("against_state", "insert", "upsert_holders", "index_rows",
                     "reserve_ids", "drop_replaced", "_erased_floors",
                     "_defer_indexes_if_empty", "_rebuild_indexes"):
            if hasattr(module, attr):
                setattr(module, attr, _timed(attr.lstrip("_"),
                                             getattr(module, attr)))
    bulk_rows.write = _timed(_table_name, bulk_rows.write)
    bulk.BulkIngest._store = _timed("store (all of a batch)", bulk.BulkIngest._store)
    ahead = bulk._checked_ahead

    def checked_ahead(*args, **kwargs):
        for batch, results in ahead(*args, **kwargs):
            w0, c0 = time.perf_counter(), time.thread_time()
            results = list(results)
            entry = SPENT["wait for the workers"]
            entry[0] += time.perf_counter() - w0
            entry[1] += time.thread_time() - c0
            entry[2] += 1
            yield batch, results

    bulk._checked_ahead = checked_ahead


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def backend_cpu(engine) -> dict[int, float]:
    """CPU seconds (user + system) of each server process serving the engine's
    database, read from /proc; empty for SQLite."""
    if engine.dialect.name != "postgresql":
        return {}
    with engine.connect() as conn:
        pids = conn.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        ).scalars().all()
    tick = os.sysconf("SC_CLK_TCK")
    spent = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        spent[pid] = (int(fields[11]) + int(fields[12])) / tick
    return spent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--n", type=int, default=100_000, help="data set (holders)")
    parser.add_argument("--limit", type=int, default=None,
                        help="documents to ingest (default: all of the data set)")
    parser.add_argument("--url", default=os.environ.get("VG_TEST_POSTGRES_URL"))
    parser.add_argument("--database", default=None)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--label", default=None,
                        help="the entry of the results file (default: the backend)")
    parser.add_argument("--no-triggers", action="store_true",
                        help="drop the change-log triggers first (to see their cost)")
    args = parser.parse_args()
    if args.backend == "postgres" and not (args.url and args.database):
        parser.error("postgres needs --url and --database")
    reference = load_reference_data(Path(os.environ.get(
        "VG_REFERENCE_DIR", ROOT.parent / "shared" / "data")))
    path = cached(reference, args.n, SEED, args.data_dir)
    engine = engine_for(args.backend, args.url, args.n, args.database)
    try:
        report = run(args, reference, engine, path)
    finally:
        engine.dispose()
        if args.backend == "postgres":
            _admin(args.url, f'DROP DATABASE IF EXISTS "{args.database}"')
    report["commit"] = _commit()
    save(args.label or args.backend, report)


def run(args, reference, engine, path) -> dict:
    create_tables(engine)
    AuditLog(engine).create_tables()
    if args.no_triggers:
        with engine.begin() as conn:
            for op in ("insert", "delete", "update"):
                conn.exec_driver_sql(
                    f"DROP TRIGGER IF EXISTS match_change_on_{op}"
                    + (" ON match_disclosure" if args.backend == "postgres" else ""))
    secret = hashlib.sha256(f"vg-bench-pseudonyms-{SEED}".encode()).digest()
    registry = Registry(engine, reference, AuditLog(engine), secret)
    registry.access.seed(_organisations(reference))
    if args.workers:
        registry.bulk._workers = args.workers
    with path.open(encoding="utf-8") as lines:
        texts = [line.rstrip("\n") for line in itertools.islice(
            lines, args.limit)] if args.limit else list(read_cached(path))
    instrument()

    load_before = os.getloadavg()
    busy0, total0 = cpu_ticks()
    own0 = resource.getrusage(resource.RUSAGE_SELF)
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    server0 = backend_cpu(engine)
    main0, wall0 = time.thread_time(), time.perf_counter()
    result = registry.bulk.disclosures(texts, NOW)
    wall = time.perf_counter() - wall0
    main_cpu = time.thread_time() - main0
    server1 = backend_cpu(engine)
    server_cpu = sum(s - server0.get(pid, 0.0) for pid, s in server1.items())
    own1 = resource.getrusage(resource.RUSAGE_SELF)
    kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy1, total1 = cpu_ticks()
    process_cpu = (own1.ru_utime + own1.ru_stime) - (own0.ru_utime + own0.ru_stime)
    worker_cpu = (kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
    n = result.accepted

    def us(seconds: float) -> float:
        return round(seconds / n * 1e6, 1)

    steps = {name: {"wall_us_per_document": us(w), "main_cpu_us_per_document": us(c),
                    "calls": calls}
             for name, (w, c, calls) in sorted(SPENT.items(), key=lambda i: -i[1][0])}
    report = {
        "machine": machine(), "holders": args.n, "documents": len(texts),
        "accepted": n, "refused": len(result.refused),
        "workers": registry.bulk._workers, "triggers": not args.no_triggers,
        "seconds": round(wall, 1), "per_second": round(n / wall),
        "load_average": [round(load_before[0], 1), round(os.getloadavg()[0], 1)],
        "cores_busy_machine_wide": round((busy1 - busy0) / (total1 - total0), 2),
        "cpu_us_per_document": {
            "workers": us(worker_cpu), "parent main thread": us(main_cpu),
            "parent other threads (pool I/O, pickling)": us(process_cpu - main_cpu),
            "parent system time (all threads)": us(own1.ru_stime - own0.ru_stime),
            "all of ours": us(worker_cpu + process_cpu),
            "database server (its backends for this database)": us(server_cpu),
            "all": us(worker_cpu + process_cpu + server_cpu)},
        "wall_us_per_document": us(wall),
        "wall_us_per_document_outside_batches (pool start, index builds, commit)": us(
            wall - SPENT["store (all of a batch)"][0]
            - SPENT["wait for the workers"][0]),
        "parent_steps": steps,
    }
    print(json.dumps(report, indent=1), flush=True)
    return report


def _commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                          capture_output=True, text=True)
    return head.stdout.strip() or "unknown"


def save(backend: str, report: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[backend] = report
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(RESULTS)


if __name__ == "__main__":
    main()
