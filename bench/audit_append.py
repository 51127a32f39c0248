"""Benchmark the audit log: bulk append, single-entry append (one per request, as
invariant 4 does it), and verify.

    .venv/bin/python bench/audit_append.py [--n 100000] [--batch 100] [--runs 3]

SQLite is measured with synchronous=FULL (the default of make_engine) and NORMAL, to
show what durability costs; PostgreSQL too when VG_TEST_POSTGRES_URL is set (tables
with a bench prefix, dropped afterwards). Prints medians over the runs and writes them
to bench/results/audit_append.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy  # noqa: E402

from audit import AuditEntry, AuditLog, make_engine  # noqa: E402
from audit.tables import audit_tables  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "audit_append.json"
T0 = datetime(2026, 3, 1, tzinfo=timezone.utc)


def make_entries(count: int) -> list[AuditEntry]:
    return [
        AuditEntry(
            trace_id=f"{i:032x}",
            span_id=f"{i:016x}",
            occurred_at=T0 + timedelta(milliseconds=37 * i),
            processing_activity="https://vg.example/rvva/matching/v1",
            actor=f"apikey-{i % 50}",
            organisation=f"GM{i % 342:04d}",
            purpose="matching",
            subject=f"psn-{uuid.UUID(int=i).hex}",
            fields=("availability", "level", "skills"),
            grants=(f"grant-{i}",),
            outcome="disclosed" if i % 7 else "refused",
            reason="live grant covers all requested fields",
        )
        for i in range(1, count + 1)
    ]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def one_run(
    log: AuditLog, bulk: list[AuditEntry], singles: list[AuditEntry], batch: int
) -> dict[str, float]:
    log.create_tables()
    batch_ms = []
    started = time.perf_counter()
    for i in range(0, len(bulk), batch):
        t = time.perf_counter()
        log.append(bulk[i : i + batch])
        batch_ms.append((time.perf_counter() - t) * 1000)
    append_s = time.perf_counter() - started
    single_ms = []
    for e in singles:
        t = time.perf_counter()
        log.append([e])
        single_ms.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    report = log.verify()
    verify_s = time.perf_counter() - t
    assert report.ok and report.size == len(bulk) + len(singles), report
    return {
        "append_s": append_s,
        "entries_per_s": len(bulk) / append_s,
        "batch_p50_ms": percentile(batch_ms, 0.5),
        "batch_p99_ms": percentile(batch_ms, 0.99),
        "single_p50_ms": percentile(single_ms, 0.5),
        "single_p99_ms": percentile(single_ms, 0.99),
        "verify_s": verify_s,
        "verify_entries_per_s": report.size / verify_s,
    }


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(statistics.median(r[k] for r in runs), 4) for k in runs[0]}


def bench(
    name: str,
    fresh: Callable[[], tuple[AuditLog, Callable[[], None]]],
    args: argparse.Namespace,
    bulk: list[AuditEntry],
    singles: list[AuditEntry],
) -> dict[str, object]:
    runs = []
    for _ in range(args.runs):
        log, cleanup = fresh()
        try:
            runs.append(one_run(log, bulk, singles, args.batch))
        finally:
            cleanup()
    result = {"median": medians(runs), "runs": runs}
    print(f"{name}: {json.dumps(result['median'])}", flush=True)
    return result


def sqlite_target(
    synchronous: str,
) -> Callable[[], tuple[AuditLog, Callable[[], None]]]:
    def fresh() -> tuple[AuditLog, Callable[[], None]]:
        workdir = tempfile.TemporaryDirectory(prefix="vg-audit-bench-")
        engine = make_engine(
            f"sqlite:///{workdir.name}/audit.db", synchronous=synchronous
        )  # type: ignore[arg-type]

        def cleanup() -> None:
            engine.dispose()
            workdir.cleanup()

        return AuditLog(engine), cleanup

    return fresh


def postgres_target(url: str) -> Callable[[], tuple[AuditLog, Callable[[], None]]]:
    def fresh() -> tuple[AuditLog, Callable[[], None]]:
        prefix = f"bench_audit_{uuid.uuid4().hex[:8]}"
        engine = make_engine(url)

        def cleanup() -> None:
            audit_tables(prefix).metadata.drop_all(engine)
            engine.dispose()

        return AuditLog(engine, prefix=prefix), cleanup

    return fresh


def environment(pg_url: str | None) -> dict[str, object]:
    env: dict[str, object] = {
        "python": platform.python_version(),
        "sqlalchemy": sqlalchemy.__version__,
        "sqlite": sqlite3.sqlite_version,
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "system": platform.platform(),
        "temp_dir": tempfile.gettempdir(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if pg_url:
        with make_engine(pg_url).connect() as conn:
            env["postgres"] = conn.exec_driver_sql("SHOW server_version").scalar()
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="entries, bulk")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument(
        "--single", type=int, default=1000, help="single-entry appends after the bulk"
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    pg_url = os.environ.get("VG_TEST_POSTGRES_URL")
    entries = make_entries(args.n + args.single)
    bulk, singles = entries[: args.n], entries[args.n :]
    targets = {
        "sqlite_full": sqlite_target("FULL"),
        "sqlite_normal": sqlite_target("NORMAL"),
    }
    if pg_url:
        targets["postgres"] = postgres_target(pg_url)
    results = {
        name: bench(name, fresh, args, bulk, singles) for name, fresh in targets.items()
    }
    output = {
        "parameters": vars(args),
        "environment": environment(pg_url),
        "results": results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(output, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
