"""Builders shared by the tests: a System on a temporary directory, holder keys, a
full Workcontext, signed grants and disclosures, a staff requester, table snapshots.

Everything is deterministic except what the product makes random itself (grant ids,
pod keys). The reference data is the real shared data, loaded once per session.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, select

from audit.tables import audit_tables
from consent import (
    Audience,
    Grant,
    HolderKey,
    make_disclosure,
    make_withdrawal,
    new_grant,
)
from pod import PodStore
from pod.crypto import INTERACTIVE
from registry import AssignmentSpec, Requester, drop_tables, make_engine
from registry.db import registry_tables
from registry.relations import MAX_SIBLINGS
from registry.policy_tables import (
    EmployerPolicyRow,
    EmploymentRow,
    LegalBasisRow,
    PolicyNotice,
)
from registry.tables import CHILD_TABLES, Disclosure, Holder
from schemas import WORKCONTEXT_CONTEXT_URL, ReferenceData, load_reference_data
from vg.settings import Settings, default_reference_dir
from vg.wiring import System, build_system

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
PASSPHRASE = "correct horse battery staple"
NAME = "Jan Jansen"
EMAIL = "jan.jansen@example.nl"
TELEPHONE = "+31 6 12345678"

UTRECHT = "GM0344"
ZEIST = "GM0355"  # borders Utrecht
AMERSFOORT = "GM0307"  # province of Utrecht, no border with the city
AMSTERDAM = "GM0363"
DEN_HAAG = "GM0518"
PROVINCE_UTRECHT = "PV26"
PROVINCE_NOORD_HOLLAND = "PV27"
MINISTRY_BZK = "mnre1034"
WATER_BOARD_AGV = "ws0155"


@functools.cache
def reference() -> ReferenceData:
    directory = os.environ.get("VG_REFERENCE_DIR") or default_reference_dir()
    return load_reference_data(Path(directory))


@functools.cache
def skill_pool() -> tuple[str, ...]:
    """A few real ESCO skill URIs, the same in every run."""
    return tuple(sorted(reference().skills)[:8])


@functools.cache
def related_skills() -> tuple[str, ...]:
    """A skill with a broader skill and a sibling: (child, its broader, sibling)."""
    ref = reference()
    for uri in sorted(ref.skills):
        ups = [u for u in ref.skills[uri].broader if u in ref.skills]
        if not ups:
            continue
        siblings = sorted(s.uri for s in ref.skills.values()
                          if ups[0] in s.broader and s.uri != uri)
        if siblings and len(siblings) < MAX_SIBLINGS:
            return uri, ups[0], siblings[0]
    raise AssertionError("ESCO has skills with a broader skill and siblings")


def occupation() -> str:
    return reference().public_admin[0].uri


def tooi(code: str) -> str:
    return reference().organisations[code].tooi_uri


@functools.cache
def holder_key(n: int) -> HolderKey:
    """The n-th synthetic holder's signing key (a fixed seed per n)."""
    return HolderKey(hashlib.sha256(f"vg-test-holder-{n}".encode()).digest())


def full_workcontext(
    did: str,
    *,
    employer: str = UTRECHT,
    skills: tuple[str, ...] | None = None,
    level_rank: int = 3,
    salary_scale: int = 11,
    hours_per_week: int = 16,
    name: str = NAME,
    email: str = EMAIL,
) -> dict[str, Any]:
    """A valid Workcontext that holds every field of the catalogue."""
    return {
        "@context": WORKCONTEXT_CONTEXT_URL,
        "id": did,
        "type": "Person",
        "name": name,
        "email": email,
        "telephone": TELEPHONE,
        "worksFor": tooi(employer),
        "hasOccupation": occupation(),
        "skills": list(skill_pool()[:3] if skills is None else skills),
        "functionLevel": {
            "type": "FunctionLevel",
            "levelSystem": "HR21",
            "levelName": "Adviseur III",
            "levelRank": level_rank,
            "salaryScale": salary_scale,
        },
        "fieldOfWork": "beleid",
        "availability": {
            "type": "Availability",
            "hoursPerWeek": hours_per_week,
            "period": {"startDate": "2027-01-01", "endDate": "2027-06-30"},
        },
        "introVideo": {
            "type": "VideoObject",
            "contentUrl": "https://video.voorbeeld.nl/intro.mp4",
            "encodingFormat": "video/mp4",
        },
        "ratingSummary": {"type": "RatingSummary", "ratingCount": 3,
                          "averageScore": "4.5"},
    }


def audience(data: dict[str, Any] | Audience) -> Audience:
    return data if isinstance(data, Audience) else Audience.from_json(data)


def signed_grant(
    key: HolderKey,
    fields: list[str],
    *,
    purposes: tuple[str, ...] = ("matching",),
    to: dict[str, Any] | Audience | None = None,
    now: datetime = NOW,
    lifetime: timedelta = timedelta(days=30),
) -> Grant:
    """A grant signed by ``key``; by default to Utrecht and its neighbours."""
    chosen = audience(to or {"kind": "employer_and_neighbours", "employer": UTRECHT})
    grant = new_grant(key.did, chosen, list(purposes), fields, now + lifetime, now)
    return grant.signed_by(key)


def disclosure(key: HolderKey, grant: Grant, sequence: int,
               workcontext: dict[str, Any] | None = None,
               now: datetime = NOW) -> dict[str, Any]:
    document = workcontext or full_workcontext(key.did)
    return make_disclosure(document, grant, sequence, key, now)


def withdrawal(key: HolderKey, grant: Grant, sequence: int,
               now: datetime = NOW) -> dict[str, Any]:
    return make_withdrawal(grant.id, sequence, key, now)


def pod_store(root: Path) -> PodStore:
    return PodStore(root, kdf_cost=INTERACTIVE)


@contextmanager
def running_system(data_dir: Path, database_url: str | None = None) -> Iterator[System]:
    """A System on ``data_dir`` (kdf_level interactive) with the cached reference
    data; on leaving it is closed: its threads stopped and every database engine
    disposed (PostgreSQL would otherwise keep idle connections per test)."""
    settings = Settings(data_dir=data_dir, kdf_level="interactive",
                        database_url=database_url, audit_database_url=database_url)
    system = build_system(settings, reference=reference())
    try:
        yield system
    finally:
        system.close()


def staff_requester(system: System, organisation: str = UTRECHT) -> Requester:
    """A staff member of ``organisation``, authenticated with a fresh API key."""
    key = system.registry.access.issue_key(organisation, "staff", "test", NOW)
    return system.registry.access.authenticate(key)


def assignment(system: System, requester: Requester, **changes: Any):
    """An open assignment asking for the first two pool skills, nationally."""
    values: dict[str, Any] = dict(
        title="Omgevingswet invoeren", description="Zes maanden, twee dagen per week.",
        required_skills=skill_pool()[:2], optional_skills=skill_pool()[2:4],
        level_min=2, level_max=4, hours_per_week=16, circle="national",
    )
    values.update(changes)
    return system.registry.create_assignment(requester, AssignmentSpec(**values), NOW)


def trace_id(n: int) -> str:
    return f"{n:032x}"


def registry_snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every registry table, sorted: compare two to see any change."""
    snapshot = {}
    with engine.connect() as conn:
        for table in registry_tables():
            rows = conn.execute(select(table)).all()
            snapshot[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return snapshot


def disclosure_rows(engine: Engine, grant_id: str | None = None) -> list:
    table = Disclosure.__table__
    query = select(table)
    if grant_id is not None:
        query = query.where(table.c.grant_id == grant_id)
    with engine.connect() as conn:
        return conn.execute(query).all()


def forget_holders(engine: Engine) -> None:
    """Delete every disclosure and holder (organisations and assignments stay)."""
    with engine.begin() as conn:
        for table in CHILD_TABLES:
            conn.execute(delete(table.__table__))
        conn.execute(delete(Disclosure.__table__))
        conn.execute(delete(Holder.__table__))


def forget_policies(engine: Engine) -> None:
    """Delete every employer policy, declared legal basis, policy notice and
    attested employment."""
    with engine.begin() as conn:
        for table in (EmployerPolicyRow, LegalBasisRow, PolicyNotice, EmploymentRow):
            conn.execute(delete(table.__table__))


def drop_all_tables(url: str) -> None:
    """Drop the registry's and the audit log's tables (PostgreSQL, between tests)."""
    engine = make_engine(url)
    try:
        drop_tables(engine)
        audit_tables("audit").metadata.drop_all(engine)
    finally:
        engine.dispose()

