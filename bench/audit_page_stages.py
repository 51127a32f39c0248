"""Where the audit's share of a match page goes: one append of a page's eleven
records (one access record, ten entries of random subjects), split into stages,
each as the appending thread's CPU per page, and the WAL pages each commit wrote.

    .venv/bin/python bench/audit_page_stages.py [--pages 2000] [--prefill 20000]
        [--subjects 1000]

The log is SQLite (``make_engine``'s settings) in a temporary folder, filled
first with ``--prefill`` pages so its indexes are not trivially small. Each
stage is timed by wrapping the ``MerkleLog`` method that does it; what is left
of an append once they are taken off is the queue and the hand-over
(``other``); ``process_cpu_us`` is the whole process's CPU per page, building
the records and the log's own threads included. The WAL checkpoint thread is
off, so the WAL only grows and its growth per page is the pages written. Prints
JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audit import AccessRecord, AuditLog, entries_per_subject  # noqa: E402
from audit import log as log_module  # noqa: E402
from audit import make_engine  # noqa: E402
from sqlalchemy import event  # noqa: E402

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ACTIVITY = "https://w3id.org/virtuele-gemeente/register#matching-v1"
FIELDS = ("hours_per_week", "level", "skills")


def page_records(n: int, subjects: list[str], rng: random.Random) -> list:
    """Page ``n`` as the gate records it: the access record and ten entries."""
    now = T0 + timedelta(milliseconds=n)
    trace = secrets.token_hex(16)
    spans = secrets.token_hex(8 * 11)
    access = AccessRecord(
        trace_id=trace, span_id=spans[:16], occurred_at=now, actor="apikey:7",
        organisation="GM0344", role="staff", action="assignment-candidates",
        target="assignment 3", result="disclosed", origin="api", subjects=10,
        reason="candidate for assignment")
    chosen = rng.sample(subjects, 10)
    # Each candidate is shown on a grant of its own, as the gate records it.
    return [access, *entries_per_subject(
        ((spans[16 * i:16 * i + 16], s, FIELDS, (f"urn:uuid:{s[:8]}-0000-4000-8000-"
                                                  f"{s[8:20]}",))
         for i, s in enumerate(chosen, 1)),
        trace_id=trace, parent_span_id=access.span_id, name="assignment-candidates",
        started_at=now, ended_at=now, processing_activity=ACTIVITY,
        organisation="GM0344", purpose="matching", outcome="disclosed",
        reason="candidate for assignment")]


class Stages:
    """Thread CPU per named stage, summed over the timed appends."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)
        self.on = False

    def wrap(self, owner: Any, name: str, label: str) -> None:
        inner = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            if not self.on:
                return inner(*args, **kwargs)
            start = time.thread_time()
            try:
                return inner(*args, **kwargs)
            finally:
                self.cpu[label] += time.thread_time() - start

        setattr(owner, name, timed)


def instrument(stages: Stages) -> None:
    log_class = log_module.MerkleLog
    for name, label in (("_lock_head", "read and lock the head"),
                        ("_partial_tiles", "partial tiles"),
                        ("_insert_entries", "insert entries"),
                        ("_insert_rows", "insert access record"),
                        ("_write_tiles", "write tiles"),
                        ("_write_head", "write head"),
                        ("_commit", "COMMIT (WAL write, fsync)")):
        stages.wrap(log_class, name, label)
    stages.wrap(log_module, "leaf_rows", "encode and hash")
    stages.wrap(log_module.merkle, "grow", "grow the tree")
    stages.wrap(log_module.tiles, "grown_tiles", "partial tiles")


def run(pages: int, prefill: int, subjects: int) -> dict[str, Any]:
    rng = random.Random(5)
    pseudonyms = [secrets.token_hex(16) for _ in range(subjects)]
    stages = Stages()
    instrument(stages)
    with tempfile.TemporaryDirectory(prefix="vg-audit-stages-") as folder:
        engine = make_engine(f"sqlite:///{folder}/audit.db")
        # No checkpoint at all while timing: the WAL's growth is then every
        # frame written (make_engine's backstop would restart it at 10,000).
        event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute(
            "PRAGMA wal_autocheckpoint = 0"))
        log = AuditLog(engine, wal_thread=False)
        log.create_tables()
        for n in range(prefill):
            log.append(page_records(n, pseudonyms, rng))
        wal = Path(f"{folder}/audit.db-wal")
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        wal_before = wal.stat().st_size if wal.exists() else 0
        build, append = [], []
        process = time.process_time()
        stages.on = True
        for n in range(prefill, prefill + pages):
            start = time.thread_time()
            records = page_records(n, pseudonyms, rng)
            built = time.thread_time()
            log.append(records)
            done = time.thread_time()
            build.append(built - start)
            append.append(done - built)
        stages.on = False
        process = time.process_time() - process
        wal_pages = (wal.stat().st_size - wal_before) / (4096 + 24) / pages
        log.close()  # the thread behind the log first: it would reopen the file
        engine.dispose()
    per_page = {label: round(cpu / pages * 1e6, 1) for label, cpu in
                sorted(stages.cpu.items(), key=lambda item: -item[1])}
    total = sum(append) / pages * 1e6
    per_page["other (queue, hand-over, BEGIN)"] = round(
        total - sum(per_page.values()), 1)
    return {"pages": pages, "prefill_pages": prefill, "subjects": subjects,
            "build_records_us": round(sum(build) / pages * 1e6, 1),
            "append_us_mean": round(total, 1),
            "append_us_p50": round(statistics.median(append) * 1e6, 1),
            "process_cpu_us": round(process / pages * 1e6, 1),
            "stages_us": per_page, "wal_pages_per_commit": round(wal_pages, 1),
            "load_average_1": round(os.getloadavg()[0], 2)}


def main(argv: list[str] | None = None,
         report: Callable[[str], None] = print) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--prefill", type=int, default=20000)
    parser.add_argument("--subjects", type=int, default=1000)
    args = parser.parse_args(argv)
    report(json.dumps(run(args.pages, args.prefill, args.subjects), indent=1))


if __name__ == "__main__":
    main()
