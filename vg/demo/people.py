"""Synthetic civil servants: Faker ``nl_NL`` names on real municipalities and skills.

No real person's data is used. Each person gets a Workcontext and one to three grants
with different audiences, fields and expiries, as people would choose them.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from faker import Faker

from schemas import WORKCONTEXT_CONTEXT_URL

LEVEL_NAMES = {1: "medewerker", 2: "medewerker II", 3: "adviseur III",
               4: "adviseur II", 5: "adviseur I"}
SCALE_OF_RANK = {1: 6, 2: 8, 3: 10, 4: 11, 5: 13}
MATCHING_FIELDS = ("name", "employer", "occupation", "level", "field_of_work",
                   "hours_per_week", "available_period", "salary_scale")


@dataclass
class PersonPlan:
    """Everything needed to create one synthetic holder's pod (picklable)."""

    index: int
    passphrase: str
    employer: str
    workcontext: dict  # without "id": the did exists only once the pod does
    grants: list[dict] = field(default_factory=list)


def plan_people(count: int, seed: int, municipalities: list[str], tooi: dict[str, str],
                occupations: list[str], pools: dict[str, list[str]],
                provinces: dict[str, str], now: datetime) -> list[PersonPlan]:
    rng = random.Random(seed)
    fake = Faker("nl_NL")
    fake.seed_instance(seed)
    return [
        _person(i, rng, fake, municipalities, tooi, occupations, pools, provinces, now)
        for i in range(count)
    ]


def _person(i, rng, fake, municipalities, tooi, occupations, pools, provinces, now):
    employer = rng.choice(municipalities)
    family = rng.choice(sorted(pools))
    rank = rng.choice((1, 2, 3, 3, 4, 4, 5))
    doc = _workcontext(rng, fake, tooi[employer], family, rank, occupations, pools, now)
    plan = PersonPlan(i, f"demo-passphrase-{seed_word(rng)}-{i}", employer, doc)
    plan.grants = _grants(rng, employer, provinces[employer], now)
    return plan


def _workcontext(rng, fake, employer_tooi, family, rank, occupations, pools, now):
    own = rng.sample(pools[family], k=min(len(pools[family]), rng.randint(4, 9)))
    other = rng.choice(sorted(pools))
    extra = rng.sample(pools[other], k=min(len(pools[other]), rng.randint(0, 3)))
    start = now.date() + timedelta(days=rng.randint(0, 90))
    name = fake.name()
    return {
        "@context": WORKCONTEXT_CONTEXT_URL,
        "type": "Person",
        "name": name,
        "email": _email(name, rng),
        "telephone": f"+31 6 {rng.randint(10000000, 99999999)}",
        "worksFor": employer_tooi,
        "hasOccupation": rng.choice(occupations),
        "skills": sorted(set(own + extra)),
        "fieldOfWork": family,
        "functionLevel": {"type": "FunctionLevel", "levelSystem": "HR21",
                          "levelName": LEVEL_NAMES[rank], "levelRank": rank,
                          "salaryScale": SCALE_OF_RANK[rank] + rng.randint(0, 1)},
        "availability": {"type": "Availability", "hoursPerWeek": rng.randrange(4, 37, 4),
                         "period": {"startDate": start.isoformat(),
                                    "endDate": _plus_months(start, rng.randint(3, 12))}},
    }


def _grants(rng, employer: str, province: str, now: datetime) -> list[dict]:
    roll = rng.random()
    if roll < 0.6:
        audience = {"kind": "employer_and_neighbours", "employer": employer}
    elif roll < 0.85:
        audience = {"kind": "province", "province": province}
    else:
        audience = {"kind": "all_municipalities"}
    fields = ["skills"] + rng.sample(MATCHING_FIELDS, k=rng.randint(2, 6))
    days = 1 if rng.random() < 0.05 else rng.randint(30, 365)
    grants = [{"audience": audience, "purposes": ["matching"], "fields": fields,
               "valid_until": now + timedelta(days=days)}]
    if rng.random() < 0.3:
        grants.append({"audience": {"kind": "organisation", "organisations": [employer]},
                       "purposes": ["contact"], "fields": ["name", "email"],
                       "valid_until": now + timedelta(days=rng.randint(30, 365))})
    return grants


def _email(name: str, rng: random.Random) -> str:
    local = re.sub(r"[^a-z]+", ".", name.lower()).strip(".")
    return f"{local}{rng.randint(1, 99)}@voorbeeld.nl"


def _plus_months(start: date, months: int) -> str:
    return (start + timedelta(days=30 * months)).isoformat()


def seed_word(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghijkmnpqrstuvwxyz") for _ in range(12))
