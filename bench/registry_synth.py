"""Synthetic holders for the registry benchmark and the labelled ranking set.

People are synthetic; skills, municipalities and organisations are the real
reference data. ESCO publishes no occupation-skill relations in the reference data
we ship, so the skills come from the public-administration skill pools per HR21
function family (``vg.demo.skills``), drawn Zipf-like within a pool (a few skills
are common, most are rare), plus one or two from another family. Levels centre on
3 of 5, hours on 32-36, availability periods start through 2027. Grants: everyone
grants skills for matching; most also level, hours, period and employer; audiences
are the employer and its neighbours, the province, or all municipalities.

Generation signs every grant and disclosure with the holder's own key, in a
process pool, and is deterministic for a seed.
"""

from __future__ import annotations

import hashlib
import json
import random
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from consent import Audience, HolderKey, make_disclosure, new_grant
from schemas import WORKCONTEXT_CONTEXT_URL

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
FAMILY_WEIGHTS = {"beleid": 30, "realisatie": 20, "beheer": 15, "dienstverlening": 15,
                  "management": 8, "ondersteuning": 10, "politiek": 2}
FULL = ["skills", "level", "hours_per_week", "available_period", "employer"]
CONSENT_PROFILES = [(60, FULL), (25, ["skills", "level", "employer"]),
                    (15, ["skills", "hours_per_week", "available_period"])]

_WORLD: dict[str, Any] = {}


def world(reference) -> dict[str, Any]:
    """What generation needs from the reference data, as plain picklable values."""
    from vg.demo.skills import skill_pools

    return {
        "pools": skill_pools(reference),
        "municipalities": sorted(reference.municipalities),
        "others": sorted(c for c, o in reference.organisations.items()
                         if o.sector in ("province", "ministry", "water_board")),
        "tooi": {c: o.tooi_uri for c, o in reference.organisations.items()},
        "occupation": reference.public_admin[0].uri,
        "province": {c: reference.province_of(c) for c in reference.organisations},
    }


def key_for(n: int, seed: int) -> HolderKey:
    return HolderKey(hashlib.sha256(f"vg-bench-{seed}-{n}".encode()).digest())


def draw_profile(rng: random.Random, w: dict[str, Any]) -> dict[str, Any]:
    family = rng.choices(list(FAMILY_WEIGHTS), list(FAMILY_WEIGHTS.values()))[0]
    pool = w["pools"][family]
    skills = {pool[_zipf(rng, len(pool))] for _ in range(rng.randint(5, 10))}
    other = w["pools"][rng.choice(list(FAMILY_WEIGHTS))]
    skills |= {other[_zipf(rng, len(other))] for _ in range(rng.randint(1, 2))}
    municipal = rng.random() < 0.9
    employer = rng.choice(w["municipalities"] if municipal else w["others"])
    start = date(2027, 1, 1) + timedelta(days=rng.randrange(0, 365))
    return {
        "skills": sorted(skills), "employer": employer, "family": family,
        "level": min(5, max(1, round(rng.gauss(3, 1)))),
        "hours": rng.choice([8, 16, 16, 24, 24, 32, 32, 36, 36, 36, 40]),
        "start": start.isoformat(),
        "end": (start + timedelta(days=rng.randint(60, 365))).isoformat(),
    }


def _zipf(rng: random.Random, n: int, s: float = 1.1) -> int:
    """An index below n, small ones far more often (inverse-CDF on 1/k^s)."""
    return min(n - 1, int(n ** rng.random() ** s) - 1) if n > 1 else 0


def workcontext(did: str, p: dict[str, Any], w: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": WORKCONTEXT_CONTEXT_URL, "id": did, "type": "Person",
        "name": "Synthetisch persoon", "worksFor": w["tooi"][p["employer"]],
        "hasOccupation": w["occupation"], "skills": p["skills"],
        "functionLevel": {"type": "FunctionLevel", "levelSystem": "HR21",
                          "levelName": "niveau", "levelRank": p["level"]},
        "fieldOfWork": p.get("family", "beleid"),
        "availability": {"type": "Availability", "hoursPerWeek": p["hours"],
                         "period": {"startDate": p["start"], "endDate": p["end"]}},
    }


def grants_for(rng: random.Random, p: dict[str, Any], w: dict[str, Any]):
    """(fields, audience) per grant: one for matching, sometimes a second."""
    fields = rng.choices([f for _, f in CONSENT_PROFILES],
                         [c for c, _ in CONSENT_PROFILES])[0]
    employer = p["employer"]
    choice = rng.random()
    if choice < 0.5 and employer.startswith("GM"):
        audience = Audience("employer_and_neighbours", employer=employer)
    elif choice < 0.8 and w["province"].get(employer):
        audience = Audience("province", province=w["province"][employer])
    else:
        audience = Audience("all_municipalities")
    out = [(list(fields), audience)]
    if rng.random() < 0.3:  # a wider second grant with fewer fields
        out.append((["skills"], Audience("all_municipalities")))
    return out


def holder_documents(n: int, seed: int, profile: dict[str, Any] | None = None,
                     grants=None) -> list[str]:
    """The signed disclosures of synthetic holder ``n`` as JSON texts."""
    w = _WORLD
    rng = random.Random(f"{seed}-{n}")
    key = key_for(n, seed)
    p = profile or draw_profile(rng, w)
    document = workcontext(key.did, p, w)
    out = []
    for sequence, (fields, audience) in enumerate(grants or grants_for(rng, p, w), 1):
        grant = new_grant(key.did, audience, ["matching"], fields,
                          NOW + timedelta(days=365), NOW).signed_by(key)
        out.append(json.dumps(make_disclosure(document, grant, sequence, key, NOW)))
    return out


def _init(w: dict[str, Any]) -> None:
    _WORLD.update(w)


def _chunk(args: tuple[int, int, int]) -> list[str]:
    start, stop, seed = args
    return [d for n in range(start, stop) for d in holder_documents(n, seed)]


def generate(reference, n: int, seed: int = 2026, workers: int = 2,
             start: int = 0):
    """Yield lists of JSON disclosures for holders start..start+n, in chunks."""
    w = world(reference)
    step = 2000
    jobs = [(i, min(i + step, start + n), seed) for i in range(start, start + n, step)]
    with ProcessPoolExecutor(workers, initializer=_init, initargs=(w,)) as pool:
        yield from pool.map(_chunk, jobs)


def planted_documents(reference, holders: list[tuple[int, dict[str, Any]]],
                      seed: int) -> list[str]:
    """Signed disclosures of hand-described holders (all five fields, to all
    municipalities, for matching)."""
    _init(world(reference))
    grants = [(FULL, Audience("all_municipalities"))]
    return [d for n, p in holders for d in holder_documents(n, seed, p, grants)]


def cached(reference, n: int, seed: int, directory: Path) -> Path:
    """The signed disclosures of ``n`` holders as JSON lines in ``directory``,
    generated once and reused: signing a million holders takes minutes, and the
    same data set serves every run of the benchmark."""
    path = directory / f"holders-{n}-{seed}.jsonl"
    if path.exists():
        return path
    directory.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as out:
        for chunk in generate(reference, n, seed):
            out.writelines(d + "\n" for d in chunk)
    partial.replace(path)
    return path


def read_cached(path: Path):
    """The documents of a cached data set, one JSON text at a time."""
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            yield line.rstrip("\n")
