"""Two municipal DPOs, each reading their own organisation's access log, can not
tell that an entry of theirs and an entry of the other's concern one holder: the
log names the holder by each organisation's own pseudonym, so nothing else in the
rows they are shown may be the same for one holder and differ between holders."""

from __future__ import annotations

from audit import Flag
from registry import Requester
from tests.vg.api.world import GRONINGEN, UTRECHT
from vg.org_names import flags_for_dpo

API = "/api/v1"


def _logs_of_two_organisations_after_one_grant(world):
    """Sanne grants her skills to every municipality in one grant; Utrecht and
    Groningen each rank her, and each DPO reads their own log."""
    skills = world.skills()
    sanne = world.holder(skills)
    grant = world.grant(sanne, ["skills"])
    logs = []
    for organisation in (UTRECHT, GRONINGEN):
        staff = world.staff(organisation)
        job = world.assignment(staff, skills)
        seen = world.client.get(f"{API}/opdrachten/{job}/kandidaten", headers=staff)
        assert seen.status_code == 200 and seen.json()["total"] == 1
        dpo = world.staff(organisation, role="dpo")
        logs.append(world.client.get(f"{API}/auditlog", headers=dpo))
    return grant, logs


def test_a_municipal_dpo_s_log_rows_carry_no_grant_id_another_dpo_also_sees(world):
    grant, (utrecht, groningen) = _logs_of_two_organisations_after_one_grant(world)

    shared = {g for e in utrecht.json() for g in e["grants"]} \
        & {g for e in groningen.json() for g in e["grants"]}

    assert utrecht.status_code == groningen.status_code == 200
    assert shared == set(), f"both DPOs see {shared} beside their own pseudonyms"


def test_a_municipal_dpo_s_csv_export_holds_no_grant_id_of_another_organisation(
        world):
    grant, _ = _logs_of_two_organisations_after_one_grant(world)
    exports = [world.client.get(f"{API}/auditlog", params={"format": "csv"},
                                headers=world.staff(org, role="dpo")).text
               for org in (UTRECHT, GRONINGEN)]

    assert not all(grant in text for text in exports)



def test_a_municipal_dpo_sees_the_entries_of_one_grant_under_one_name(world):
    """The DPO can still tell which entries rest on one grant, by a name of the
    grant for their organisation alone."""
    grant, (utrecht, groningen) = _logs_of_two_organisations_after_one_grant(world)

    seen = [{g for e in log.json() for g in e["grants"]}
            for log in (utrecht, groningen)]

    assert all(len(names) == 1 for names in seen)
    assert grant not in utrecht.text and grant not in groningen.text


def test_two_dpos_get_repeated_views_flags_in_orders_of_their_own(world):
    system = world.system
    subjects = [f"{n:032x}" for n in range(1, 25)]
    found = [Flag("volume", "x", "staff-1", "many")] + [
        Flag("repeated-views", "x", "staff-1", "shown 3 times", subject=s, count=3)
        for s in subjects]
    orders = {}
    for organisation in (UTRECHT, GRONINGEN):
        dpo = Requester(organisation, "dpo-1", "dpo")
        shown = flags_for_dpo(system, dpo, found)
        assert shown[0].kind == "volume"
        names = [f.subject for f in shown[1:]]
        assert names == sorted(names)  # by the names this DPO is shown
        orders[organisation] = [system.org_pseudonyms.named(organisation, n)
                                for n in names]

    assert sorted(orders[UTRECHT]) == sorted(orders[GRONINGEN]) == subjects
    assert orders[UTRECHT] != orders[GRONINGEN]
    assert orders[UTRECHT] != subjects
