"""Benchmark the inclusion proof path alone, on a tree of synthetic leaves.

    .venv/bin/python bench/audit_proof_path.py --url URL [--size 2000000]
        [--prefix audit] [--samples 1000] [--seed 1]

The tables of ``--prefix`` are created (or upgraded) in the database of ``--url``
and, unless their head already has ``--size`` leaves, filled with the tiles and the
head of a tree of that many synthetic leaf hashes (SHA-256 of each index), written
by the log's own tile writer. The entries tables stay empty: a proof reads only
tiles and the head, so the fill takes seconds, not the hours of real entries.

Then, in this process, a log with an empty tile cache on a new engine (a fresh
worker: new connections) gives inclusion proofs of ``--samples`` random leaves
(``cold``: every leaf tile read, the upper ones read until cached), then of as
many other random leaves (``warm``), each timed on its own. Prints p50 and p95 in
microseconds, the process's CPU per proof, and the statements run and tile bytes
fetched per proof, as one JSON line. Twenty proofs are
checked against the head's root, so the figures are of real proofs. Run it once
per process, alternating the code under test, and compare medians.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audit import merkle, tiles  # noqa: E402
from audit.auditlog import AuditLog  # noqa: E402
from audit.db import make_engine  # noqa: E402

_CHUNK = 1 << 16  # leaves per transaction of the fill
_NODES_WRITTEN = hasattr(tiles, "NODES_BYTES")  # run on code from before it too


def leaf(index: int) -> bytes:
    return hashlib.sha256(index.to_bytes(8, "big")).digest()


def fill(log: AuditLog, size: int) -> None:
    """Tiles and head of a tree of ``size`` synthetic leaves, from an empty log."""
    if log.head().size:
        raise SystemExit("the tables hold another tree; use a new --prefix")
    frontier: list[bytes] = []
    done = 0
    raw = log.engine.raw_connection()
    try:
        while done < size:
            count = min(_CHUNK, size - done)
            partial = log._partial_tiles(raw, done, frontier)  # noqa: SLF001
            done, grown = merkle.grow(frontier, done, [
                leaf(i) for i in range(done, done + count)])
            changed = tiles.grown_tiles(done - count, grown, partial)
            if _NODES_WRITTEN:  # the code under test stores the tiles' nodes
                log._write_tiles(raw, changed, done - count, grown)  # noqa: SLF001
            else:
                log._write_tiles(raw, changed)  # noqa: SLF001
            log._write_head(raw, done, frontier)  # noqa: SLF001
            raw.commit()
    finally:
        raw.close()


def measure(url: str, prefix: str, size: int, samples: int, seed: int) -> dict:
    engine = make_engine(url)
    log = AuditLog(engine, prefix=prefix)
    reads = [0, 0]  # statements run and tile bytes they fetched
    real = log._read_for_proof  # noqa: SLF001

    def counted(keys):
        read = real(keys)
        reads[0] += 1
        reads[1] += sum(map(len, read.tiles.values())) + sum(
            map(len, getattr(read, "nodes", {}).values()))
        return read

    log._read_for_proof = counted  # noqa: SLF001
    rng = random.Random(seed)
    figures: dict = {}
    try:
        for name in ("cold", "warm"):
            indices = [rng.randrange(size) for _ in range(samples)]
            times = []
            reads[:] = [0, 0]
            cpu = time.process_time()
            for index in indices:
                t = time.perf_counter()
                log.inclusion(index, size)
                times.append(time.perf_counter() - t)
            cpu = time.process_time() - cpu
            times.sort()
            figures[f"{name}_us_p50"] = round(statistics.median(times) * 1e6, 1)
            figures[f"{name}_us_p95"] = round(times[int(0.95 * len(times))] * 1e6, 1)
            figures[f"{name}_cpu_us"] = round(cpu / samples * 1e6, 1)
            figures[f"{name}_reads"] = round(reads[0] / samples, 2)
            figures[f"{name}_bytes"] = round(reads[1] / samples)
        root = bytes.fromhex(log.head().root_hash)
        for index in indices[:20]:
            merkle.verify_inclusion(index, size, leaf(index),
                                    log.inclusion(index, size).hashes, root)
    finally:
        engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--size", type=int, default=2_000_000)
    parser.add_argument("--prefix", default="audit")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    engine = make_engine(args.url)
    log = AuditLog(engine, prefix=args.prefix, subject_thread=False)
    log.create_tables()
    if log.head().size != args.size:
        t = time.perf_counter()
        fill(log, args.size)
        print(f"filled {args.size:,} leaves in {time.perf_counter() - t:.0f} s",
              file=sys.stderr)
    engine.dispose()
    figures = measure(args.url, args.prefix, args.size, args.samples, args.seed)
    print(json.dumps({"prefix": args.prefix, "size": args.size, **figures}))


if __name__ == "__main__":
    main()
