"""Bulk ingest and single ingest follow one rule: the same documents, fed one by one
or as one load into registries in the same state, give the same refusals and leave
the same rows in every table (refusals, retractions, replays, withdrawn grants,
grant ids of other holders, erased holders, grants an employer's policy
suspended)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from sqlalchemy import select

from consent import KINDS, Audience, EmployerPolicy, format_time, sign_document
from registry.ingest import pseudonym_for
from registry.tables_match import MatchChange
from tests.factories import (
    AMSTERDAM,
    NOW,
    UTRECHT,
    disclosure,
    drop_all_tables,
    full_workcontext,
    holder_key,
    registry_tables,
    running_system,
    signed_grant,
    withdrawal,
)

OPEN = EmployerPolicy(UTRECHT, frozenset(KINDS))
NO_POOL = EmployerPolicy(UTRECHT, frozenset(KINDS) - {"cross_sector"})
POOL = Audience("cross_sector")
AT_UTRECHT = Audience("employer", employer=UTRECHT)


def _erasure(key, sequence: int) -> dict:
    body = {"type": "ErasureRequest", "holder": key.did, "sequence": sequence,
            "issued": format_time(NOW)}
    return sign_document(body, key)


def _moved(key) -> dict:
    return full_workcontext(key.did, employer=AMSTERDAM)


def scenario() -> tuple[list[tuple[str, dict]], list[dict]]:
    """(what the registry holds first, as (kind, document)) and the documents fed."""
    before: list[tuple[str, dict]] = []
    fed: list[dict] = []

    # Moves to Amsterdam, then back: the employer grant is retracted, then returns.
    a = holder_key(80)
    to_utrecht = signed_grant(a, ["skills"], to=AT_UTRECHT)
    fed += [disclosure(a, to_utrecht, 1), disclosure(a, to_utrecht, 2, _moved(a)),
            disclosure(a, to_utrecht, 3)]

    # Moves to Utrecht, whose policy refuses the pool: the pool grant is retracted.
    b = holder_key(81)
    pooled = signed_grant(b, ["skills", "level"], to=POOL)
    fed += [disclosure(b, pooled, 1, _moved(b)), disclosure(b, pooled, 2)]

    # A disclosure stored before the load is retracted by a refused newer one.
    c = holder_key(82)
    stored = signed_grant(c, ["skills"], to=AT_UTRECHT)
    before.append(("disclosure", disclosure(c, stored, 1)))
    fed.append(disclosure(c, stored, 2, _moved(c)))

    # A refused document with nothing to retract changes nothing.
    d = holder_key(83)
    fed.append(disclosure(d, signed_grant(d, ["skills"], to=POOL), 1))

    # Out of order: the lower sequence number after the higher is a replay, also
    # when the policy refuses it too.
    e = holder_key(84)
    fed += [disclosure(e, signed_grant(e, ["skills"]), 2),
            disclosure(e, signed_grant(e, ["level"]), 1),
            disclosure(e, signed_grant(e, ["level"], to=POOL), 2)]

    # A withdrawn grant, and its id taken up by another holder.
    f, g = holder_key(85), holder_key(86)
    gone = signed_grant(f, ["skills"])
    before += [("disclosure", disclosure(f, gone, 1)),
               ("withdrawal", withdrawal(f, gone, 2))]
    taken = dataclasses.replace(gone, holder=g.did, signature=None).signed_by(g)
    fed += [disclosure(f, gone, 3), disclosure(g, taken, 1)]

    # An erased holder: below the erasure a replay, above it taken.
    h = holder_key(87)
    kept = signed_grant(h, ["skills"])
    before += [("disclosure", disclosure(h, kept, 1)), ("erasure", _erasure(h, 2))]
    fed += [disclosure(h, kept, 2), disclosure(h, kept, 3)]
    # A Workcontext that names no employer is taken under an employer audience.
    k = holder_key(88)
    unemployed = full_workcontext(k.did)
    del unemployed["worksFor"]
    fed.append(disclosure(k, signed_grant(k, ["skills"], to=AT_UTRECHT), 1,
                          unemployed))
    before_suspended, fed_suspended = _suspended_scenario()
    return before + before_suspended, fed + fed_suspended


UNATTESTED = holder_key(94).did


def _suspended_scenario() -> tuple[list[tuple[str, dict]], list[dict]]:
    """Pool grants stored while Utrecht's policy allowed the pool, suspended when it
    stopped allowing it (``_prepare``), then published again."""
    before: list[tuple[str, dict]] = []
    fed: list[dict] = []
    grants = {}
    for n in range(90, 95):
        key = holder_key(n)
        grants[n] = (key, signed_grant(key, ["skills", "level"], to=POOL))
        before.append(("disclosure", disclosure(key, grants[n][1], 1)))

    # Still at Utrecht: refused, the newer projection replaces the suspended one
    # and stays suspended, once and twice in one load.
    key, pooled = grants[90]
    fed.append(disclosure(key, pooled, 2, full_workcontext(key.did, level_rank=4)))
    key, pooled = grants[91]
    fed += [disclosure(key, pooled, 2, full_workcontext(key.did, level_rank=4)),
            disclosure(key, pooled, 3, full_workcontext(key.did, level_rank=5))]
    # Moved to Amsterdam, which has no policy: taken, no longer suspended, also
    # after a refused one of the same load.
    key, pooled = grants[92]
    fed.append(disclosure(key, pooled, 2, _moved(key)))
    key, pooled = grants[93]
    fed += [disclosure(key, pooled, 2), disclosure(key, pooled, 3, _moved(key))]
    # At Utrecht, which never attested the holder: its policy does not bind them,
    # so nothing was suspended and the newer projection is taken.
    key, pooled = grants[94]
    fed.append(disclosure(key, pooled, 2, full_workcontext(key.did, level_rank=4)))
    return before, fed


def _prepare(system, before: list[tuple[str, dict]]) -> None:
    """Utrecht attests the holders of ``before`` (but UNATTESTED); store
    ``before`` under a policy that allows every audience, then narrow the policy:
    what it no longer allows of its employees is suspended."""
    for did in sorted({d["holder"] for _, d in before} - {UNATTESTED}):
        system.registry.employment.attest(UTRECHT, did, NOW)
    system.registry.policies.set_policy(OPEN, NOW)
    receive = {"disclosure": system.registry.receive_disclosure,
               "withdrawal": system.registry.receive_withdrawal,
               "erasure": system.registry.receive_erasure}
    for kind, document in before:
        receive[kind](document, NOW)
    system.registry.policies.set_policy(NO_POOL, NOW)


def _one_by_one(system, fed: list[dict]) -> list[tuple[int, str]]:
    refused = []
    for position, document in enumerate(fed):
        try:
            system.registry.receive_disclosure(document, NOW)
        except Exception as exc:  # noqa: BLE001 - the refusal's code is compared
            refused.append((position, getattr(exc, "code", repr(exc))))
    return refused


def _in_bulk(system, fed: list[dict]) -> list[tuple[int, str]]:
    result = system.registry.bulk.disclosures([json.dumps(d) for d in fed], NOW)
    return sorted(result.refused)


def _canonical(system, dids: list[str]) -> dict[str, list]:
    """Every registry table's rows without the numbers the database hands out:
    a disclosure id becomes its (holder, grant), a term id its term, and a
    pseudonym (keyed per deployment) the did it stands for."""
    named = {pseudonym_for(system.pseudonym_secret, d): d for d in dids}
    out: dict[str, list] = {}
    with system.registry.engine.connect() as conn:
        tables = {t.name: t for t in registry_tables()}
        grants = {r.id: (r.holder_did, r.grant_id)
                  for r in conn.execute(select(tables["disclosure"]))}
        terms = dict(conn.execute(select(tables["match_term"].c.id,
                                         tables["match_term"].c.term)).all())
        for name, table in tables.items():
            if name in (MatchChange.__tablename__, "match_term"):
                continue  # a log of changes, and numbers: compared through the rows
            rows = []
            for row in conn.execute(select(table)).mappings():
                values = dict(row)
                values.pop("id", None)
                if "disclosure_id" in values:
                    values["disclosure_id"] = grants.get(values["disclosure_id"])
                for column in ("reach", "skill"):
                    if name.startswith("match_") and column in values:
                        values[column] = terms[values[column]]
                if "pseudonym" in values:
                    values["pseudonym"] = named[values["pseudonym"]]
                if name == "employment":
                    values["subject"] = named[values["subject"]]
                if name == "disclosure":
                    values["document"] = json.loads(values["document"])
                rows.append(repr(sorted(values.items())))
            out[name] = sorted(rows)
    return out


def test_bulk_and_single_ingest_leave_the_same_registry(database_url, tmp_path: Path):
    before, fed = scenario()
    dids = sorted({d["holder"] for _, d in before} | {d["holder"] for d in fed})
    results = []
    for name, feed in (("single", _one_by_one), ("bulk", _in_bulk)):
        if database_url is not None:
            drop_all_tables(database_url)
        with running_system(tmp_path / name, database_url) as system:
            _prepare(system, before)
            refused = feed(system, fed)
            results.append((refused, _canonical(system, dids)))

    (single_refused, single_rows), (bulk_refused, bulk_rows) = results
    assert bulk_refused == single_refused
    assert single_refused  # the scenario refuses, retracts and replays
    assert single_rows["policy_notice"]
    suspended = [row for row in single_rows["disclosure"]
                 if "('suspended_by', '" + UTRECHT + "')" in row]
    assert len(suspended) == 2  # the two grants published again at Utrecht
    for table in single_rows:
        assert bulk_rows[table] == single_rows[table], table
