"""Benchmark the registry: bulk ingest, match latency, the consent gate's cost and
the quality of the ranking, on N synthetic holders.

    .venv/bin/python bench/registry_bench.py --backend sqlite --n 100000
    .venv/bin/python bench/registry_bench.py --backend postgres --n 1000000 \\
        --url postgresql+psycopg://postgres@127.0.0.1:5432/test --database NAME

The signed data set is generated once into ``--data-dir`` (JSON lines) and reused
by later runs. SQLite lives in a fresh file under var/bench; PostgreSQL in a
database of its own (``--database``), created for the run and dropped afterwards.
Reports: ingest rate (disclosures per second, every document's signature verified,
in a process pool), the latency of one page of ten candidates
(``Registry.candidates``: rank, read the page through the gate, append the audit
entries) and of ranking one page alone, p50 and p95 over 200 varied assignments,
the ratio of gated to ungated ranking over the same rows, precision@10 on the
labelled set, and the time and memory of the process's first full load of the
in-memory match index. Figures are merged into bench/results/registry.json by
backend.

``--ingest-only`` measures the bulk ingest alone and merges only its figures into
the backend's entry, with the load average before and after and the CPU seconds of
this process and its workers (a PostgreSQL server's own time is not among them):

    .venv/bin/python bench/registry_bench.py --backend sqlite --n 100000 --ingest-only

``--keep`` keeps the PostgreSQL database after the run (the SQLite file is always
kept); ``--reuse`` measures such a kept database again without ingesting, after
upgrading its schema (which back-fills any index a newer revision adds). The
pseudonym key is fixed per seed so that the labelled set is found again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from itertools import chain
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, make_url, select, text  # noqa: E402

from audit import AuditLog  # noqa: E402
from bench.registry_labelled import evaluate, planted  # noqa: E402
from bench.registry_synth import NOW, cached, read_cached, world  # noqa: E402
from registry import AssignmentSpec, BulkResult, ConsentGate, Registry  # noqa: E402
from registry import Requester  # noqa: E402
from registry import create_tables, make_engine  # noqa: E402
from registry.gate import Rankable  # noqa: E402
from registry.tables_match import MatchTerm  # noqa: E402
from schemas import load_reference_data  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "registry.json"
DATA_DIR = Path(tempfile.gettempdir()) / "vg-registry-bench"
SEED = 2026


class UngatedGate(ConsentGate):
    """The same queries with the consent conditions taken out: the baseline that
    shows what the gate costs. Never used outside this benchmark."""

    def rankable(self, requester, purpose, now, conn=None):
        term = MatchTerm.__table__
        query = select(term.c.id).where(term.c.term.like(f"{purpose}|%"))
        if conn is not None:
            return Rankable(tuple(conn.execute(query).scalars().all()), now)
        with self._engine.connect() as own:
            every = own.execute(query).scalars().all()
        return Rankable(tuple(every), now)

    def _visible(self, t, org, purpose, now):
        return []

    def _reachable(self, t, reach, now):
        return []

    def purge_expired(self, now):
        return 0


def engine_for(backend: str, url: str | None, n: int, database: str | None,
               reuse: bool = False):
    if backend == "sqlite":
        path = ROOT / "var" / "bench" / f"registry-{n}.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm") if not reuse else ():
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return make_engine(f"sqlite:///{path}")
    if not reuse:
        _admin(url, f'DROP DATABASE IF EXISTS "{database}"')
        _admin(url, f'CREATE DATABASE "{database}"')
    return make_engine(make_url(url).set(database=database).render_as_string(
        hide_password=False))


def _admin(url: str, statement: str) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(statement))
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
    parser.add_argument("--database", default=None,
                        help="PostgreSQL: the database to create, use and drop")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR,
                        help="where the generated data set is kept for reuse")
    parser.add_argument("--ingest-only", action="store_true",
                        help="measure the bulk ingest alone and merge its figures")
    parser.add_argument("--keep", action="store_true",
                        help="PostgreSQL: keep the database after the run")
    parser.add_argument("--reuse", action="store_true",
                        help="measure on the database an earlier run kept (upgraded "
                             "to the current schema first), without ingesting")
    args = parser.parse_args()
    if args.backend == "postgres" and not (args.url and args.database):
        parser.error("postgres needs --url and --database")
    reference = load_reference_data(Path(os.environ.get(
        "VG_REFERENCE_DIR", ROOT.parent / "shared" / "data")))
    engine = engine_for(args.backend, args.url, args.n, args.database, args.reuse)
    try:
        report = run(args, reference, engine)
    finally:
        engine.dispose()
        if args.backend == "postgres" and not args.keep:
            _admin(args.url, f'DROP DATABASE IF EXISTS "{args.database}"')
    save(args.backend, report, merge=args.ingest_only)


def run(args, reference, engine) -> dict:
    t0 = time.perf_counter()
    create_tables(engine)
    print(f"schema upgraded in {time.perf_counter() - t0:.1f} s", flush=True)
    audit = AuditLog(engine)
    audit.create_tables()
    # Fixed for a seed, so that a kept database can be measured again (--reuse).
    secret = hashlib.sha256(f"vg-bench-pseudonyms-{SEED}".encode()).digest()
    registry = Registry(engine, reference, audit, secret)
    if args.reuse:
        return reused(args, reference, engine, registry, secret)
    registry.access.seed(_organisations(reference))

    print(f"data set of {args.n} holders ...", flush=True)
    t0 = time.perf_counter()
    path = cached(reference, args.n, SEED, args.data_dir)
    print(f"  {path} ready in {time.perf_counter() - t0:.0f} s", flush=True)

    labelled = planted(reference, SEED)
    load_before, cpu_before = os.getloadavg(), _cpu_seconds()
    t0 = time.perf_counter()
    documents = chain(read_cached(path), labelled)
    result = registry.bulk.disclosures(documents, NOW)
    ingest = time.perf_counter() - t0
    cpu = _cpu_seconds() - cpu_before
    rate = result.accepted / ingest
    print(f"ingest: {result.accepted} accepted, {len(result.refused)} refused, "
          f"{ingest:.1f} s, {rate:,.0f} disclosures/s; {cpu:.1f} CPU seconds here "
          f"and in the workers; load {load_before[0]:.1f} -> {os.getloadavg()[0]:.1f}",
          flush=True)
    if args.ingest_only:
        report = {
            "ingest_machine": machine(), "holders": args.n,
            "disclosures": result.accepted, "refused": len(result.refused),
            "ingest_seconds": round(ingest, 1), "ingest_per_second": round(rate),
            "ingest_cpu_seconds": round(cpu, 1),
            "ingest_per_cpu_second": round(result.accepted / cpu),
            "ingest_load_average": [round(load_before[0], 1),
                                    round(os.getloadavg()[0], 1)],
        }
        print(json.dumps(report, indent=1), flush=True)
        return report
    t0 = time.perf_counter()
    _analyze(engine)
    print(f"analyze: {time.perf_counter() - t0:.1f} s", flush=True)

    rng = random.Random(SEED)
    jobs = [(org, registry.create_assignment(Requester(org, "bench", "staff"), spec,
                                             NOW))
            for org, spec in assignments(reference, args.queries, rng)]
    return measure(registry, engine, jobs, result, rate, ingest, args, secret)


def reused(args, reference, engine, registry, secret) -> dict:
    """Measure a database ingested by an earlier run (with ``--keep``)."""
    t0 = time.perf_counter()
    _analyze(engine)
    print(f"analyze: {time.perf_counter() - t0:.1f} s", flush=True)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM disclosure")).scalar_one()
    result = BulkResult(accepted=count)
    rng = random.Random(SEED)
    jobs = [(org, registry.create_assignment(Requester(org, "bench", "staff"), spec,
                                             NOW))
            for org, spec in assignments(reference, args.queries, rng)]
    report = measure(registry, engine, jobs, result, None, None, args, secret)
    report["ingest"] = "reused: ingested by an earlier run"
    return report


def measure(registry, engine, jobs, result, rate, ingest, args, secret) -> dict:
    page_of = 11  # a page of ten and one more, to know whether there is a next
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    with registry.match_index.locked():  # the process's first full load
        pass
    index_load = time.perf_counter() - t0
    print(f"in-memory index loaded in {index_load:.1f} s", flush=True)
    for org, job in jobs[:10]:  # warm the caches once
        registry.rank(Requester(org, "bench", "staff"), job, NOW, limit=page_of)
    page, rank, totals = [], [], []
    for n, (org, job) in enumerate(jobs):
        requester = Requester(org, "bench", "staff")
        shown = []
        page.append(timed(lambda: shown.append(registry.candidates(
            requester, job.id, NOW, f"{n + 1:032x}"))))
        totals.append(shown[0].total)
        rank.append(timed(lambda: registry.rank(requester, job, NOW, limit=page_of)))
    gated = registry.gate
    registry.gate = UngatedGate(engine, registry.reference, registry.gate._audit)
    ungated = [timed(lambda: registry.rank(Requester(o, "bench", "staff"), j, NOW,
                                           limit=page_of))
               for o, j in jobs]
    registry.gate = gated
    outcomes = evaluate(registry, secret, SEED, NOW)
    hits = sum(o.picks_in_top10 for o in outcomes)
    report = {
        "machine": machine(), "holders": args.n,
        "load_average_1_5_15_min": {"before": [round(x, 2) for x in load_before],
                                    "after": [round(x, 2) for x in os.getloadavg()]},
        "disclosures": result.accepted, "refused": len(result.refused),
        "index_load_seconds": round(index_load, 1),
        "index_memory_mb": round(resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss / 1024),
        "ingest_seconds": round(ingest, 1) if ingest else None,
        "ingest_per_second": round(rate) if rate else None,
        "candidates_page": summary(page), "rank_page": summary(rank),
        "ungated_rank_page": summary(ungated),
        "gated_over_ungated_p50": round(statistics.median(rank)
                                        / statistics.median(ungated), 2),
        "gated_over_ungated_p95": round(percentile(rank, 0.95)
                                        / percentile(ungated, 0.95), 2),
        "ranked_candidates_median": statistics.median(totals),
        "ranked_candidates_p95": percentile(totals, 0.95),
        "precision_at_10": round(hits / (10 * len(outcomes)), 3),
        "picks_in_top_10": round(hits / sum(o.picks for o in outcomes), 3),
        "queries": len(jobs),
    }
    print(json.dumps(report, indent=1), flush=True)
    return report


def _analyze(engine) -> None:
    """Statistics after a bulk load; on PostgreSQL also VACUUM, which sets the
    visibility map that lets the ranking read the match index alone."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(
                isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        return
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def _organisations(reference):
    from vg.wiring import organisation_rows

    return organisation_rows(reference)


def _cpu_seconds() -> float:
    """User and system time of this process and of its finished children (the
    ingest's worker pool is joined before the ingest returns)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


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


def save(backend: str, report: dict, merge: bool = False) -> None:
    """Write the backend's figures; ``merge`` keeps those this run did not measure."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[backend] = {**data.get(backend, {}), **report} if merge else report
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(RESULTS)


if __name__ == "__main__":
    main()
