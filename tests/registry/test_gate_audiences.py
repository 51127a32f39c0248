"""The gate's SQL for audiences says exactly what the audience rules say.

For one grant of every audience kind (and every reference of the kinds that take
one near Utrecht, Amsterdam and The Hague) and for every organisation in the real
reference data, the SQL condition selects the grant if and only if
``Audience.contains`` does. The gate re-checks each row from the signed grant, so
this test is what catches SQL that would otherwise be masked by that re-check.
"""

from __future__ import annotations

from sqlalchemy import select

from consent import Audience
from registry.tables import Disclosure
from schemas import SECTORS
from tests.factories import (
    AMSTERDAM,
    DEN_HAAG,
    MINISTRY_BZK,
    NOW,
    PROVINCE_UTRECHT,
    UTRECHT,
    WATER_BOARD_AGV,
    disclosure,
    full_workcontext,
    holder_key,
    reference,
    signed_grant,
)

REF = reference()
AUDIENCES = [
    Audience("organisation", organisations=(WATER_BOARD_AGV,)),
    Audience("organisations", organisations=(MINISTRY_BZK, AMSTERDAM)),
    Audience("employer", employer=UTRECHT),
    Audience("employer", employer=MINISTRY_BZK),
    Audience("employer_and_neighbours", employer=DEN_HAAG),
    Audience("province", province=PROVINCE_UTRECHT),
    Audience("corop", region="CR17"),
    Audience("corop", region="CR23"),
    Audience("safety_region", region="VR09"),
    Audience("safety_region", region="VR15"),
    Audience("all_municipalities"),
    *(Audience("sector", sector=s) for s in SECTORS),
    Audience("cross_sector"),
]


def test_every_audience_in_sql_contains_exactly_the_organisations_of_its_rule(system):
    key = holder_key(7)
    # Without an employer in the Workcontext, one holder may use every employer
    # audience here (a disclosure in the first form names no employer either).
    workcontext = full_workcontext(key.did)
    del workcontext["worksFor"]
    by_grant = {}
    for sequence, chosen in enumerate(AUDIENCES, start=1):
        grant = signed_grant(key, ["skills"], to=chosen)
        system.registry.receive_disclosure(
            disclosure(key, grant, sequence, workcontext), NOW)
        by_grant[grant.id] = chosen
    gate, table = system.registry.gate, Disclosure.__table__

    with system.registry.engine.connect() as conn:
        for org in REF.organisations:
            query = select(table.c.grant_id).where(gate._audience_condition(table, org))
            selected = {row.grant_id for row in conn.execute(query)}

            expected = {g for g, a in by_grant.items() if a.contains(org, REF)}
            assert selected == expected, org


def test_each_sector_and_region_audience_reaches_someone_and_not_everyone():
    everyone = set(REF.organisations)
    for chosen in AUDIENCES:
        members = {o for o in everyone if chosen.contains(o, REF)}
        assert members, chosen
        if chosen.kind != "cross_sector":
            assert members != everyone, chosen
