"""The labelled ranking set: thirty assignments, each with the synthetic people a
sensible project leader would pick first (``picks``) and near misses (``decoys``),
in ``bench/data/registry_labelled.json``. Used by the benchmark (precision@10) and
by a test (every pick is in the top 10)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bench.registry_synth import key_for, planted_documents
from registry import AssignmentSpec, Registry, Requester, pseudonym_for

LABELLED = Path(__file__).parent / "data" / "registry_labelled.json"
PLANTED = 1_000_000_000  # holder numbers far above any generated population


@dataclass(frozen=True)
class Outcome:
    assignment: int
    picks_in_top10: int
    picks: int


def load() -> list[dict]:
    return json.loads(LABELLED.read_text(encoding="utf-8"))["assignments"]


def planted(reference, seed: int) -> list[str]:
    holders = []
    for a in load():
        for k, person in enumerate(a["picks"] + a["decoys"]):
            holders.append((PLANTED + a["id"] * 10 + k, person))
    return planted_documents(reference, holders, seed)


def spec(a: dict) -> AssignmentSpec:
    return AssignmentSpec(
        title=a["title"], description="", required_skills=tuple(a["requiredSkills"]),
        optional_skills=tuple(a["optionalSkills"]), level_min=a["levelMin"],
        level_max=a["levelMax"], hours_per_week=a["hoursPerWeek"],
        period_start=date.fromisoformat(a["periodStart"]),
        period_end=date.fromisoformat(a["periodEnd"]), circle=a["circle"],
        function_family=a["functionFamily"])


def evaluate(registry: Registry, secret: bytes, seed: int, now) -> list[Outcome]:
    outcomes = []
    for a in load():
        requester = Requester(a["organisation"], "bench", "staff")
        job = registry.create_assignment(requester, spec(a), now)
        top = [s.pseudonym for s in registry.rank(requester, job, now, limit=10)]
        picks = {pseudonym_for(secret, key_for(PLANTED + a["id"] * 10 + k, seed).did)
                 for k in range(len(a["picks"]))}
        outcomes.append(Outcome(a["id"], len(picks & set(top)), len(picks)))
    return outcomes
