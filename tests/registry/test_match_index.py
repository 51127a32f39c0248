"""The match index says exactly what the audience rules say, and lives and dies
with its disclosures.

For one grant of every audience kind and every organisation in the real reference
data, the rows of the match index under the organisation's reach keys are those of
the grants whose audience ``Audience.contains`` it. Ranking reads nothing else, so
this is what keeps invariant 2 on the fast path.
"""

from __future__ import annotations

from alembic import command
from sqlalchemy import func, select

from registry.migrate import _config, upgrade
from registry.tables import Disclosure
from registry.tables_match import MatchDisclosure, MatchSkill, MatchTerm
from tests.factories import (
    NOW,
    UTRECHT,
    disclosure,
    full_workcontext,
    holder_key,
    signed_grant,
    withdrawal,
)
from tests.registry.test_erasure import erasure
from tests.registry.test_gate_audiences import AUDIENCES, REF

D = Disclosure.__table__
MD = MatchDisclosure.__table__
MS = MatchSkill.__table__
TERM = MatchTerm.__table__


def index_rows(engine) -> dict[str, set[tuple]]:
    """Every row of the match index, with terms as texts (ids may differ)."""
    skill, reach = TERM.alias("skill"), TERM.alias("reach")
    with engine.connect() as conn:
        rows = conn.execute(
            select(D.c.grant_id, reach.c.term, *(c for c in MD.c if c.name not in (
                "disclosure_id", "reach")))
            .join(D, D.c.id == MD.c.disclosure_id)
            .join(reach, reach.c.id == MD.c.reach)).all()
        skills = conn.execute(
            select(D.c.grant_id, skill.c.term, reach.c.term, MS.c.pseudonym,
                   MS.c.valid_from, MS.c.valid_until)
            .join(D, D.c.id == MS.c.disclosure_id)
            .join(skill, skill.c.id == MS.c.skill)
            .join(reach, reach.c.id == MS.c.reach)).all()
    return {"rows": {tuple(r) for r in rows}, "skills": {tuple(r) for r in skills}}


def publish_every_audience(system) -> dict[str, object]:
    key = holder_key(7)
    workcontext = full_workcontext(key.did)
    del workcontext["worksFor"]  # so that one holder may use every audience
    by_grant = {}
    for sequence, chosen in enumerate(AUDIENCES, start=1):
        grant = signed_grant(key, ["skills"], to=chosen)
        system.registry.receive_disclosure(
            disclosure(key, grant, sequence, workcontext), NOW)
        by_grant[grant.id] = chosen
    return by_grant


def test_reach_keys_select_exactly_the_organisations_of_each_audience_rule(system):
    by_grant = publish_every_audience(system)
    gate = system.registry.gate

    with system.registry.engine.connect() as conn:
        for org in REF.organisations:
            query = select(D.c.grant_id).join(MD, MD.c.disclosure_id == D.c.id).where(
                *gate._reachable(MD, gate._reach(org, "matching"), NOW))
            selected = {row.grant_id for row in conn.execute(query)}

            expected = {g for g, a in by_grant.items() if a.contains(org, REF)}
            assert selected == expected, org


def test_reach_keys_are_per_purpose(system):
    publish_every_audience(system)
    gate = system.registry.gate

    with system.registry.engine.connect() as conn:
        query = select(MD.c.disclosure_id).where(
            *gate._reachable(MD, gate._reach(UTRECHT, "contact"), NOW))
        assert conn.execute(query).all() == []


def test_withdrawal_and_erasure_delete_the_index_rows(system):
    key = holder_key(8)
    first = signed_grant(key, ["skills", "level"])
    second = signed_grant(key, ["skills"])
    registry = system.registry
    registry.receive_disclosure(disclosure(key, first, 1), NOW)
    registry.receive_disclosure(disclosure(key, second, 2), NOW)
    assert len(index_rows(registry.engine)["rows"]) == 2

    registry.receive_withdrawal(withdrawal(key, first, 3), NOW)
    left = index_rows(registry.engine)
    assert {r[0] for r in left["rows"]} == {second.id}
    assert {r[0] for r in left["skills"]} == {second.id}

    registry.receive_erasure(erasure(key, 4), NOW)
    assert index_rows(registry.engine) == {"rows": set(), "skills": set()}


def test_the_upgrade_back_fills_the_rows_ingest_writes(system):
    publish_every_audience(system)
    key = holder_key(9)
    system.registry.receive_disclosure(
        disclosure(key, signed_grant(key, ["skills", "level", "employer"]), 1), NOW)
    engine = system.registry.engine
    written = index_rows(engine)
    assert written["skills"]

    with engine.begin() as conn:
        command.downgrade(_config(conn), "0008_web_session")
        assert conn.execute(select(func.count()).select_from(D)).scalar_one() > 0
    upgrade(engine)

    assert index_rows(engine) == written


def test_an_index_row_of_an_expired_grant_is_purged_before_a_query(system):
    key = holder_key(10)
    grant = signed_grant(key, ["skills"])
    registry = system.registry
    registry.receive_disclosure(disclosure(key, grant, 1), NOW)
    later = grant.valid_until

    registry.gate.purge_expired(later)

    assert index_rows(registry.engine) == {"rows": set(), "skills": set()}
