"""Benchmark consent: building and SHACL-validating a consent record and a receipt,
and the gate's audience SQL over disclosures of every audience kind.

    .venv/bin/python bench/consent_records.py [--runs 5] [--holders 200]

Reference data from VG_REFERENCE_DIR (default ../shared/data). SQLite in a temporary
directory. Prints medians over the runs and writes them to
bench/results/consent_records.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from consent import (  # noqa: E402
    Audience,
    ConsentEvent,
    DeclaredBasis,
    HolderKey,
    consent_receipt,
    consent_record,
    make_disclosure,
    new_grant,
)
from registry import Requester  # noqa: E402
from schemas.consent_record import ConsentRecordValidator  # noqa: E402
from vg.settings import Settings, default_reference_dir  # noqa: E402
from vg.wiring import build_system  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "consent_records.json"
NOW = datetime(2026, 12, 4, 12, tzinfo=timezone.utc)
AUDIENCES = [
    Audience("organisations", organisations=("GM0363", "mnre1034")),
    Audience("employer", employer="GM0344"),
    Audience("employer_and_neighbours", employer="GM0344"),
    Audience("province", province="PV26"), Audience("corop", region="CR17"),
    Audience("safety_region", region="VR09"), Audience("all_municipalities"),
    Audience("sector", sector="water_board"), Audience("cross_sector"),
]


def timed(action, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def bench_records(runs: int) -> dict:
    key, operator = HolderKey(bytes(32)), HolderKey(bytes([1]) * 32)
    grant = new_grant(key.did, Audience("cross_sector"), ["matching"],
                      ["skills", "level", "hours_per_week"], NOW + timedelta(days=30),
                      NOW).signed_by(key)
    bases = [DeclaredBasis("GM0344", "matching", "public_task")]
    event = ConsentEvent("given", NOW, key.did)
    validator = ConsentRecordValidator()
    record = consent_record(grant, event, bases)
    ten = [consent_record(grant, ConsentEvent("given", NOW + timedelta(minutes=n),
                                              key.did), bases) for n in range(10)]
    receipt = consent_receipt(ten, operator, NOW)
    return {
        "build_record_ms": 1000 * timed(lambda: consent_record(grant, event, bases),
                                        runs * 20),
        "validate_record_ms": 1000 * timed(lambda: validator.validate(record), runs),
        "validate_receipt_of_10_ms": 1000 * timed(lambda: validator.validate(receipt),
                                                  runs),
    }


def workcontext(did: str, tooi: str) -> dict:
    from schemas import WORKCONTEXT_CONTEXT_URL
    return {"@context": WORKCONTEXT_CONTEXT_URL, "id": did, "type": "Person",
            "worksFor": tooi, "skills": [], "functionLevel": {
                "type": "FunctionLevel", "levelSystem": "HR21", "levelRank": 3}}


def bench_gate(runs: int, holders: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        system = build_system(Settings(data_dir=Path(tmp), kdf_level="interactive",
                                       reference_dir=reference_dir()))
        tooi = system.reference.organisations["GM0344"].tooi_uri
        for n in range(holders):
            key = HolderKey(n.to_bytes(32, "big"))
            chosen = AUDIENCES[n % len(AUDIENCES)]
            grant = new_grant(key.did, chosen, ["matching"], ["level"],
                              NOW + timedelta(days=30), NOW).signed_by(key)
            system.registry.receive_disclosure(
                make_disclosure(workcontext(key.did, tooi), grant, 1, key, NOW), NOW)
        out = {}
        for org in ("GM0355", "ws0155", "VR09", "mnre1034"):
            requester = Requester(org, "bench", "staff")
            seen = len(system.registry.gate.visible(requester, "matching", NOW))
            out[org] = {"visible": seen, "query_ms": 1000 * timed(
                lambda: system.registry.gate.visible(requester, "matching", NOW),
                runs)}
        return out


def reference_dir() -> Path:
    return Path(os.environ.get("VG_REFERENCE_DIR") or default_reference_dir())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--holders", type=int, default=900)
    args = parser.parse_args()
    results = {"records": bench_records(args.runs),
               "gate": bench_gate(args.runs, args.holders)}
    report = {
        "parameters": vars(args),
        "environment": {"python": platform.python_version(), "cpus": os.cpu_count(),
                        "machine": platform.machine(), "system": platform.platform(),
                        "measured_at": datetime.now(timezone.utc).strftime(
                            "%Y-%m-%dT%H:%M:%SZ")},
        "results": results,
    }
    print(json.dumps(report["results"], indent=2))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
