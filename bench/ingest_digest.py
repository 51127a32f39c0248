"""Digests of every registry table after a bulk ingest: run it on two commits over
the same data set to show that they store the same result.

    .venv/bin/python bench/ingest_digest.py --backend sqlite --n 100000 --limit 20000
    .venv/bin/python bench/ingest_digest.py --backend postgres --n 100000 \\
        --limit 20000 --url postgresql+psycopg://postgres@127.0.0.1:5432/postgres \\
        --database NAME

Ingests the first ``--limit`` documents of the registry benchmark's data set into a
fresh registry, and with them documents that must be refused or that replace
others: every tenth of them again (replays), a copy of every fiftieth with one
character of its projection changed (a broken signature), and a grant withdrawn
before the load. Prints the refusals' digest and one SHA-256 per table over its
rows in the order of all their columns. Left out, as they differ between any two
runs of one commit: ``match_change.created`` (the database's clock) and, on
PostgreSQL, ``match_change.transaction_id`` and ``seq`` (its trigger numbers the
disclosures of one statement in the order of a hashed DISTINCT, which differs
from run to run; the disclosure ids logged are compared).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from audit import AuditLog  # noqa: E402
from bench.registry_bench import DATA_DIR, SEED, _admin, _organisations  # noqa: E402
from bench.registry_bench import engine_for  # noqa: E402
from bench.registry_synth import NOW, cached, key_for  # noqa: E402
from consent import make_withdrawal  # noqa: E402
from registry.db import create_tables, registry_tables  # noqa: E402
from registry.service import Registry  # noqa: E402
from schemas import load_reference_data  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
VOLATILE = {"match_change": {"created"}}
VOLATILE_POSTGRES = {"match_change": {"created", "transaction_id", "seq"}}


def documents(path: Path, limit: int) -> list[str]:
    with path.open(encoding="utf-8") as lines:
        texts = [line.rstrip("\n") for line in itertools.islice(lines, limit)]
    replays = texts[::10]
    broken = [t.replace('"skills": ["', '"skills": [" ', 1) for t in texts[::50]]
    return texts + replays + broken


def withdraw_before(registry, texts: list[str]) -> None:
    """The first second grant of a holder, withdrawn (with sequence 1) before the
    load: its disclosure is refused as withdrawn, the holder's first as a
    replay."""
    document = next(d for d in map(json.loads, texts) if d["sequence"] == 2)
    n = next(n for n in itertools.count() if key_for(n, SEED).did
             == document["holder"])
    registry.receive_withdrawal(make_withdrawal(
        document["grant"]["id"], 1, key_for(n, SEED), NOW), NOW)


def digests(engine) -> dict[str, str]:
    out = {}
    volatile = VOLATILE_POSTGRES if engine.dialect.name == "postgresql" else VOLATILE
    with engine.connect() as conn:
        for table in registry_tables():
            columns = [c for c in table.columns
                       if c.name not in volatile.get(table.name, ())]
            rows = conn.execute(select(*columns).order_by(*columns)).all()
            digest = hashlib.sha256()
            for row in rows:
                digest.update(repr(tuple(row)).encode() + b"\n")
            out[table.name] = f"{len(rows):8d} {digest.hexdigest()[:16]}"
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--n", type=int, default=100_000, help="data set (holders)")
    parser.add_argument("--limit", type=int, default=20_000)
    parser.add_argument("--url", default=os.environ.get("VG_TEST_POSTGRES_URL"))
    parser.add_argument("--database", default=None)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    args = parser.parse_args()
    if args.backend == "postgres" and not (args.url and args.database):
        parser.error("postgres needs --url and --database")
    reference = load_reference_data(Path(os.environ.get(
        "VG_REFERENCE_DIR", ROOT.parent / "shared" / "data")))
    path = cached(reference, args.n, SEED, args.data_dir)
    engine = engine_for(args.backend, args.url, args.n, args.database)
    try:
        create_tables(engine)
        AuditLog(engine).create_tables()
        secret = hashlib.sha256(f"vg-bench-pseudonyms-{SEED}".encode()).digest()
        registry = Registry(engine, reference, AuditLog(engine), secret)
        registry.access.seed(_organisations(reference))
        texts = documents(path, args.limit)
        withdraw_before(registry, texts)
        result = registry.bulk.disclosures(texts, NOW)
        refusals = hashlib.sha256(repr(sorted(result.refused)).encode()).hexdigest()
        print(f"accepted {result.accepted}, refused {len(result.refused)} "
              f"(digest {refusals[:16]})")
        for name, digest in sorted(digests(engine).items()):
            print(f"{name:24s} {digest}")
    finally:
        engine.dispose()
        if args.backend == "postgres":
            _admin(args.url, f'DROP DATABASE IF EXISTS "{args.database}"')


if __name__ == "__main__":
    main()
