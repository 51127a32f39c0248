"""Where a page of candidates spends its time on a kept benchmark database: each
SQL statement of ``Registry.candidates`` timed (wall clock, from the driver's
send to its last row), the rest of the page as the process's own share, and the
plans of the slowest statements.

    .venv/bin/python bench/registry_page_sql.py --n 1000000 \\
        --url postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        --database NAME [--explain 3]

The database is one that ``registry_bench.py --keep`` left; the same 200
assignments are made again (as ``--reuse`` does). Prints, per kind of statement
(its first words), p50 / p95 / max of its time per page, then ``EXPLAIN
(ANALYZE, BUFFERS)`` of the ``--explain`` slowest statements of the slowest
pages, run again with their own parameters.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, make_url  # noqa: E402

from audit import AuditLog  # noqa: E402
from bench.registry_bench import SEED, assignments, percentile  # noqa: E402
from bench.registry_synth import NOW  # noqa: E402
from registry import Registry, Requester, create_tables, make_engine  # noqa: E402
from schemas import load_reference_data  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def kind_of(statement: str) -> str:
    """A short name for a statement: its verb and first table."""
    words = re.sub(r"\s+", " ", statement).strip()
    table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", words, re.I)
    return f"{words.split(' ', 1)[0]} {table.group(1) if table else '?'}"


def _time_stages(registry) -> dict[str, list[float]]:
    """Wrap the steps of a page (on the objects and modules it looks them up
    on) with wall clock timers; returns their times as they accrue."""
    from registry import match_scoring

    spent: dict[str, list[float]] = defaultdict(list)

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name].append((time.perf_counter() - t0) * 1000)
        return wrapper

    match_scoring.rank = timed("rank in memory", match_scoring.rank)
    gate = registry.gate
    for name in ("rankable", "page", "disclose"):
        setattr(gate, name, timed(f"gate.{name}", getattr(gate, name)))
    index = registry.match_index
    index.sync = timed("match index sync", index.sync)
    registry.assignments.passed = timed("passed", registry.assignments.passed)
    registry.assignments.get = timed("assignment", registry.assignments.get)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--url", default=os.environ.get("VG_TEST_POSTGRES_URL"))
    parser.add_argument("--database", required=True)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--explain", type=int, default=3)
    args = parser.parse_args()
    reference = load_reference_data(Path(os.environ.get(
        "VG_REFERENCE_DIR", ROOT.parent / "shared" / "data")))
    engine = make_engine(make_url(args.url).set(database=args.database)
                         .render_as_string(hide_password=False))
    create_tables(engine)
    audit = AuditLog(engine)
    audit.create_tables()
    secret = hashlib.sha256(f"vg-bench-pseudonyms-{SEED}".encode()).digest()
    registry = Registry(engine, reference, audit, secret)
    rng = random.Random(SEED)
    jobs = [(org, registry.create_assignment(Requester(org, "bench", "staff"), spec,
                                             NOW))
            for org, spec in assignments(reference, args.queries, rng)]
    with registry.match_index.locked():
        pass
    for org, job in jobs[:10]:
        registry.rank(Requester(org, "bench", "staff"), job, NOW, limit=11)

    stages = _time_stages(registry)
    current: list = []

    @event.listens_for(engine, "before_cursor_execute")
    def before(conn, cursor, statement, parameters, context, many):
        conn.info["t0"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def after(conn, cursor, statement, parameters, context, many):
        current.append((time.perf_counter() - conn.info.pop("t0"), statement,
                        parameters))

    pages = []
    for n, (org, job) in enumerate(jobs):
        current.clear()
        cpu0, t0 = time.process_time(), time.perf_counter()
        registry.candidates(Requester(org, "bench", "staff"), job.id, NOW,
                            f"{n + 1:032x}")
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        pages.append((wall, cpu, list(current)))

    by_kind: dict[str, list[float]] = defaultdict(list)
    for _, _, statements in pages:
        per_page: dict[str, float] = defaultdict(float)
        for seconds, statement, _ in statements:
            per_page[kind_of(statement)] += seconds
        for kind, seconds in per_page.items():
            by_kind[kind].append(seconds * 1000)
    walls = [w * 1000 for w, _, _ in pages]
    sql = [sum(s for s, _, _ in st) * 1000 for _, _, st in pages]
    print(f"page wall p50/p95 {statistics.median(walls):.1f} / "
          f"{percentile(walls, .95):.1f} ms; SQL {statistics.median(sql):.1f} / "
          f"{percentile(sql, .95):.1f}; process CPU "
          f"{statistics.median(c * 1000 for _, c, _ in pages):.1f} ms p50")
    for kind, ms in sorted(by_kind.items(), key=lambda kv: -percentile(kv[1], .95)):
        print(f"  {kind:40} n={len(ms):4} p50 {statistics.median(ms):6.2f} "
              f"p95 {percentile(ms, .95):6.2f} max {max(ms):6.2f} ms")

    for name, ms in stages.items():
        print(f"  stage {name:34} n={len(ms):4} p50 {statistics.median(ms):6.2f} "
              f"p95 {percentile(ms, .95):6.2f} max {max(ms):6.2f} ms")

    slowest = sorted(pages, key=lambda p: -p[0])[:args.explain]
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for wall, _, statements in slowest:
            print(f"\n=== page of {wall * 1000:.1f} ms")
            for seconds, statement, parameters in sorted(
                    statements, key=lambda s: -s[0])[:2]:
                if not statement.lstrip().upper().startswith("SELECT"):
                    continue
                print(f"--- {seconds * 1000:.1f} ms: {statement[:300]}")
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                print("\n".join(r[0] for r in cursor.fetchall()))
        raw.rollback()
    finally:
        raw.close()


if __name__ == "__main__":
    main()
