"""Benchmark the registry: bulk ingest, match latency, the consent gate's cost and
the quality of the ranking, on N synthetic holders.

    .venv/bin/python bench/registry_bench.py --backend sqlite --n 100000
    .venv/bin/python bench/registry_bench.py --backend postgres --n 1000000 \\
        --url postgresql+psycopg://postgres@127.0.0.1:5432/test

SQLite lives in a fresh file under var/bench; PostgreSQL in a schema of its own that
is dropped afterwards. Reports: ingest rate (disclosures per second, both signatures
of every document verified, in a process pool), the latency of one page of ten
candidates (``Registry.candidates``: rank, read the page through the gate, append the
audit entries) and of ranking alone, p50 and p95 over 200 varied assignments, the
ratio of gated to ungated ranking over the same rows, and precision@10 on the
labelled set. Figures are merged into bench/results/registry.json by backend.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import secrets
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402

from audit import AuditLog  # noqa: E402
from bench.registry_labelled import evaluate, planted  # noqa: E402
from bench.registry_synth import NOW, generate, world  # noqa: E402
from registry import AssignmentSpec, ConsentGate, Registry, Requester  # noqa: E402
from registry import create_tables, make_engine  # noqa: E402
from registry.matching import Matcher  # noqa: E402
from schemas import load_reference_data  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "registry.json"
SCHEMA = f"bench_registry_{os.getpid()}"  # its own schema, dropped afterwards
SEED = 2026


class UngatedGate(ConsentGate):
    """The same queries with the consent conditions taken out: the baseline that
    shows what the gate costs. Never used outside this benchmark."""

    def _visible(self, t, org, purpose, now):
        return []

    def purge_expired(self, now):
        return 0


def engine_for(backend: str, url: str | None, n: int):
    if backend == "sqlite":
        path = ROOT / "var" / "bench" / f"registry-{n}.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return make_engine(f"sqlite:///{path}")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    admin.dispose()
    return create_engine(url, connect_args={"options": f"-csearch_path={SCHEMA}"})


def drop_schema(url: str) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
    admin.dispose()


def assignments(reference, count: int,
                rng: random.Random) -> list[tuple[str, AssignmentSpec]]:
    """Varied assignments: every family, 1-4 required skills (common and rare),
    0-3 nice-to-haves, level ranges, hours, periods, circles, requesters."""
    w = world(reference)
    circles = ["national"] * 4 + ["neighbours"] * 2 + ["province"] * 2 + [
        "corop", "safety_region", "municipalities"]
    out = []
    for _ in range(count):
        pool = w["pools"][rng.choice(list(w["pools"]))]
        skills = rng.sample(pool[:60], 6)
        required = skills[: rng.randint(1, 4)]
        optional = skills[4: 4 + rng.randint(0, 2)]
        low = rng.randint(1, 4)
        start = date(2027, 1, 1) + timedelta(days=rng.randrange(300))
        out.append((rng.choice(w["municipalities"]), AssignmentSpec(
            title="Opdracht", description="", required_skills=tuple(required),
            optional_skills=tuple(optional), level_min=low,
            level_max=min(5, low + rng.randint(0, 2)),
            hours_per_week=rng.choice([8, 16, 24, 32, 36]), period_start=start,
            period_end=start + timedelta(days=rng.randint(30, 240)),
            circle=rng.choice(circles), remote=rng.random() < 0.2)))
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def summary(ms: list[float]) -> dict:
    return {"p50_ms": round(statistics.median(ms), 2),
            "p95_ms": round(percentile(ms, 0.95), 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--url", default=os.environ.get("VG_TEST_POSTGRES_URL"))
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--explain", action="store_true",
                        help="print the plan of the ranking query and stop")
    args = parser.parse_args()
    reference = load_reference_data(Path(os.environ.get(
        "VG_REFERENCE_DIR", ROOT.parent / "shared" / "data")))
    engine = engine_for(args.backend, args.url, args.n)
    try:
        report = run(args, reference, engine)
    finally:
        engine.dispose()
        if args.backend == "postgres":
            drop_schema(args.url)
    if report:
        save(args.backend, report)


def run(args, reference, engine) -> dict | None:
    create_tables(engine)
    audit = AuditLog(engine)
    audit.create_tables()
    secret = secrets.token_bytes(32)
    registry = Registry(engine, reference, audit, secret)
    registry.access.seed(_organisations(reference))

    print(f"generating {args.n} holders ...", flush=True)
    t0 = time.perf_counter()
    documents = [d for chunk in generate(reference, args.n, SEED) for d in chunk]
    documents += planted(reference, SEED)
    generated = time.perf_counter() - t0
    print(f"  {len(documents)} signed disclosures in {generated:.0f} s", flush=True)

    t0 = time.perf_counter()
    result = registry.bulk.disclosures(documents, NOW)
    ingest = time.perf_counter() - t0
    del documents
    rate = result.accepted / ingest
    print(f"ingest: {result.accepted} accepted, {len(result.refused)} refused, "
          f"{ingest:.1f} s, {rate:,.0f} disclosures/s", flush=True)
    _analyze(engine)

    rng = random.Random(SEED)
    jobs = [(org, registry.create_assignment(Requester(org, "bench", "staff"), spec,
                                             NOW))
            for org, spec in assignments(reference, args.queries, rng)]
    if args.explain:
        explain(engine, registry, jobs[:3])
        return None
    return measure(registry, engine, jobs, result, rate, ingest, args, secret)


def measure(registry, engine, jobs, result, rate, ingest, args, secret) -> dict:
    for org, job in jobs[:10]:  # warm the caches once
        registry.rank(Requester(org, "bench", "staff"), job, NOW)
    page, rank, sizes = [], [], []
    for n, (org, job) in enumerate(jobs):
        requester = Requester(org, "bench", "staff")
        page.append(timed(lambda: registry.candidates(requester, job.id, NOW,
                                                      f"{n + 1:032x}")))
        ranked = []
        rank.append(timed(lambda: ranked.extend(registry.rank(requester, job, NOW))))
        sizes.append(len(ranked))
    gated = registry.gate
    registry.gate = UngatedGate(engine, registry.reference, registry.gate._audit)
    ungated = [timed(lambda: registry.rank(Requester(o, "bench", "staff"), j, NOW))
               for o, j in jobs]
    registry.gate = gated
    outcomes = evaluate(registry, secret, SEED, NOW)
    hits = sum(o.picks_in_top10 for o in outcomes)
    report = {
        "machine": machine(), "holders": args.n,
        "disclosures": result.accepted, "refused": len(result.refused),
        "ingest_seconds": round(ingest, 1), "ingest_per_second": round(rate),
        "candidates_page": summary(page), "rank_only": summary(rank),
        "ungated_rank": summary(ungated),
        "gated_over_ungated_p50": round(statistics.median(rank)
                                        / statistics.median(ungated), 2),
        "ranked_candidates_median": statistics.median(sizes),
        "precision_at_10": round(hits / (10 * len(outcomes)), 3),
        "picks_in_top_10": round(hits / sum(o.picks for o in outcomes), 3),
        "queries": len(jobs),
    }
    print(json.dumps(report, indent=1))
    return report


def explain(engine, registry, jobs) -> None:
    """Print the plan of the ranking query (the signals read) for a few jobs."""
    captured = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "outer" in statement.lower() or "LEFT OUTER JOIN" in statement:
            captured.append((statement, parameters))

    from sqlalchemy import event
    event.listen(engine, "before_cursor_execute", capture)
    for org, job in jobs:
        registry.rank(Requester(org, "bench", "staff"), job, NOW)
    event.remove(engine, "before_cursor_execute", capture)
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else (
        "EXPLAIN (ANALYZE, BUFFERS) ")
    raw = engine.raw_connection()
    try:
        for statement, parameters in captured:
            cursor = raw.cursor()
            cursor.execute(prefix + statement, parameters)
            for row in cursor.fetchall():
                print(" | ".join(str(c) for c in row))
            print("-" * 60)
    finally:
        raw.close()


def _analyze(engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def _organisations(reference):
    from vg.wiring import organisation_rows

    return organisation_rows(reference)


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "system": platform.platform()}


def save(backend: str, report: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[backend] = report
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(RESULTS)


if __name__ == "__main__":
    main()
