"""Benchmark a DPO's filter by requester (and organisation), on a log of requests.

    .venv/bin/python bench/audit_requester_filter.py --url URL [--prefix audit]
        [--requests 5080] [--entries 10] [--tail 300] [--samples 200]

Unless the tables of ``--prefix`` already hold a log, it is filled with
``--requests`` requests of one access record and ``--entries`` entries each, by
twelve requesters of two organisations, the tables behind the log brought up to
all but the last ``--tail`` requests (the log's tail after the mark). Then each
sample reads the first page (100) of one requester's entries, as the platform
DPO's ``/auditlog`` does, one from the middle of them (``after``), and the first
page of them within their own organisation, as a municipal DPO's does, each
timed on its own. Prints the medians in milliseconds of each, wall-clock and
the process's CPU, and how many entries each page held, as one JSON line. Run
it once per process, alternating the code under test, and compare medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audit import AccessRecord, AuditEntry  # noqa: E402
from audit.auditlog import AuditLog  # noqa: E402
from audit.db import make_engine  # noqa: E402
from audit.subject_index import catch_up  # noqa: E402

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
ORGS = ("GM0344", "GM0363")
ACTORS = 12


def request(n: int, k: int) -> list:
    trace, parent = f"{n + 1:032x}", f"{n + 1:08x}00000000"
    at = T0 + timedelta(seconds=n)
    org = ORGS[n % 2]
    return [AccessRecord(
        trace_id=trace, span_id=parent, occurred_at=at,
        actor=f"apikey:{n % ACTORS}", organisation=org, role="staff",
        action="assignment-candidates", target=f"assignment {n}",
        result="disclosed", origin="api", subjects=k, reason="candidates shown"),
        *(AuditEntry(
            trace_id=trace, span_id=f"{n + 1:08x}{i + 1:08x}",
            parent_span_id=parent, name="disclose", started_at=at, ended_at=at,
            processing_activity="https://vg.example/rvva/matching/v1",
            organisation=org, purpose="matching", subject=f"psn-{(n * 7 + i) % 997}",
            fields=("skills", "level"), grants=(f"grant-{n}",),
            outcome="disclosed", reason="a live grant covers it")
          for i in range(k))]


def fill(log: AuditLog, requests: int, entries: int, tail: int) -> None:
    if log.head().size:
        return
    batch: list = []
    for n in range(requests):
        batch += request(n, entries)
        if len(batch) >= 2000 or n + 1 == requests - tail:
            log.append(batch)
            batch = []
        if n + 1 == requests - tail:
            catch_up(log.engine, log.tables)
    if batch:
        log.append(batch)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--prefix", default="audit")
    parser.add_argument("--requests", type=int, default=5080)
    parser.add_argument("--entries", type=int, default=10)
    parser.add_argument("--tail", type=int, default=300)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()

    engine = make_engine(args.url)
    log = AuditLog(engine, prefix=args.prefix, subject_thread=False,
                   wal_thread=False)
    log.create_tables()
    fill(log, args.requests, args.entries, args.tail)

    timings: dict[str, list[float]] = {"requester": [], "requester_after": [],
                                       "organisation_requester": []}
    cpus: dict[str, list[float]] = {name: [] for name in timings}
    found = set()
    half = args.requests // 2 * (args.entries + 1)
    cpu = time.process_time()
    for n in range(args.samples):
        actor = n % ACTORS
        both = {"organisation": ORGS[actor % 2], "requester": f"apikey:{actor}"}
        for name, filters, after in (
                ("requester", {"requester": both["requester"]}, None),
                ("requester_after", {"requester": both["requester"]}, half),
                ("organisation_requester", both, None)):
            start, used = time.perf_counter(), time.process_time()
            page = log.page(limit=100, after=after, **filters)
            timings[name].append(time.perf_counter() - start)
            cpus[name].append(time.process_time() - used)
            found.add((name, len(page.records)))
    cpu = time.process_time() - cpu
    print(json.dumps({
        "size": log.head().size,
        **{f"{name}_ms": round(statistics.median(times) * 1e3, 2)
           for name, times in timings.items()},
        **{f"{name}_cpu_ms": round(statistics.median(times) * 1e3, 2)
           for name, times in cpus.items()},
        "cpu_ms_per_query": round(cpu * 1e3 / (3 * args.samples), 2),
        "found": sorted(found)}))
    log.close()
    engine.dispose()


if __name__ == "__main__":
    main()
