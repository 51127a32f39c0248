"""What one holder or organisation creates has a ceiling (409 limit-reached, and
nothing changed), and the lists of what was created page like the candidates."""

from __future__ import annotations

import threading

import pytest

from registry import limits
from tests.vg.api.test_teams import team  # noqa: F401  (a fixture)
from tests.vg.api.world import GRONINGEN, UTRECHT

API = "/api/v1"


def _group(world, person, n: int):
    return world.client.post(f"{API}/groepen", headers=person.headers, json={
        "slug": f"groep-{n}", "name": f"Groep {n}", "theme": ""})


def test_a_holder_founds_a_bounded_number_of_groups(world, monkeypatch):
    monkeypatch.setattr(limits, "MAX_GROUPS_FOUNDED", 3)
    sanne, bram = world.holder(world.skills()), world.holder(world.skills())

    made = [_group(world, sanne, n).status_code for n in range(4)]
    other = _group(world, bram, 9)

    assert made == [201, 201, 201, 409]
    refused = _group(world, sanne, 5).json()
    assert refused["code"] == "limit-reached" and "3" in refused["detail"]
    assert other.status_code == 201
    slugs = [g["slug"] for g in world.client.get(
        f"{API}/groepen?limit=100", headers=sanne.headers).json()["items"]]
    assert slugs == ["groep-0", "groep-1", "groep-2", "groep-9"]


def test_an_organisation_keeps_a_bounded_number_of_assignments_open(world,
                                                                    monkeypatch):
    monkeypatch.setattr(limits, "MAX_UNCLOSED_ASSIGNMENTS", 2)
    staff, other = world.staff(UTRECHT), world.staff(GRONINGEN)
    skills = world.skills()
    first = world.assignment(staff, skills)
    world.assignment(staff, skills)

    refused = world.client.post(f"{API}/opdrachten", headers=staff, json={
        "title": "Nog een", "requiredSkills": skills})
    world.client.post(f"{API}/opdrachten/{first}/status", headers=staff,
                      json={"action": "close"})
    after_closing = world.client.post(f"{API}/opdrachten", headers=staff, json={
        "title": "Nog een", "requiredSkills": skills})

    assert refused.status_code == 409 and refused.json()["code"] == "limit-reached"
    assert after_closing.status_code == 201
    assert world.assignment(other, skills)


def test_an_organisation_creates_a_bounded_number_of_assignments_in_all(
        world, monkeypatch):
    monkeypatch.setattr(limits, "MAX_ASSIGNMENTS", 2)
    staff, skills = world.staff(UTRECHT), world.skills()
    for _ in range(2):
        created = world.assignment(staff, skills)
        world.client.post(f"{API}/opdrachten/{created}/status", headers=staff,
                          json={"action": "close"})

    refused = world.client.post(f"{API}/opdrachten", headers=staff, json={
        "title": "Nog een", "requiredSkills": skills})

    assert refused.status_code == 409 and refused.json()["code"] == "limit-reached"


def test_a_team_holds_a_bounded_number_of_products(world, team, monkeypatch):  # noqa: F811,E501
    monkeypatch.setattr(limits, "MAX_TEAM_PRODUCTS", 2)
    url = f"{API}/teams/{team['name']}/producten"

    answers = [world.client.post(url, headers=team["staff"], json={
        "title": f"Stuk {n}", "url": f"https://example.org/{n}"}).status_code
        for n in range(3)]

    assert answers == [201, 201, 409]
    page = world.client.get(f"{API}/teams/{team['name']}", headers=team["staff"])
    assert len(page.json()["products"]) == 2


def at_once(count: int, request) -> list[int]:
    """The statuses of ``request(k)`` sent from ``count`` threads released together."""
    start = threading.Barrier(count)
    statuses: list[int] = [0] * count

    def one(k: int) -> None:
        start.wait()
        statuses[k] = request(k).status_code

    threads = [threading.Thread(target=one, args=(k,)) for k in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


def test_groups_founded_at_once_never_pass_the_ceiling(world, monkeypatch):
    monkeypatch.setattr(limits, "MAX_GROUPS_FOUNDED", 3)
    sanne = world.holder(world.skills())
    assert _group(world, sanne, 0).status_code == 201

    statuses = at_once(6, lambda k: _group(world, sanne, 10 + k))

    assert statuses == [201, 201, 409, 409, 409, 409]
    founded = world.client.get(f"{API}/groepen?limit=100", headers=sanne.headers)
    assert len(founded.json()["items"]) == 3


def test_assignments_created_at_once_never_pass_the_ceilings(world, monkeypatch):
    monkeypatch.setattr(limits, "MAX_UNCLOSED_ASSIGNMENTS", 3)
    staff, skills = world.staff(UTRECHT), world.skills()
    world.assignment(staff, skills)

    statuses = at_once(6, lambda k: world.client.post(
        f"{API}/opdrachten", headers=staff,
        json={"title": f"Tegelijk {k}", "requiredSkills": skills}))

    assert statuses == [201, 201, 409, 409, 409, 409]
    listed = world.client.get(f"{API}/opdrachten?limit=100", headers=staff).json()
    assert len(listed["items"]) == 3


def test_products_added_at_once_never_pass_the_ceiling(world, team, monkeypatch):  # noqa: F811,E501
    monkeypatch.setattr(limits, "MAX_TEAM_PRODUCTS", 2)
    url = f"{API}/teams/{team['name']}/producten"

    statuses = at_once(5, lambda k: world.client.post(url, headers=team["staff"], json={
        "title": f"Stuk {k}", "url": f"https://example.org/{k}"}))

    assert statuses == [201, 201, 409, 409, 409]
    page = world.client.get(f"{API}/teams/{team['name']}", headers=team["staff"])
    assert len(page.json()["products"]) == 2


def test_groups_page_by_cursor(world):
    sanne = world.holder(world.skills())
    for n in range(5):
        assert _group(world, sanne, n).status_code == 201

    seen, cursor, pages = [], None, 0
    while True:
        query = f"limit=2&cursor={cursor}" if cursor else "limit=2"
        page = world.client.get(f"{API}/groepen?{query}", headers=sanne.headers).json()
        seen += [g["slug"] for g in page["items"]]
        cursor, pages = page["nextCursor"], pages + 1
        if cursor is None:
            break

    assert seen == [f"groep-{n}" for n in range(5)] and pages == 3
    assert all(g["members"] == 1 for g in world.client.get(
        f"{API}/groepen", headers=sanne.headers).json()["items"])


def test_assignments_page_by_cursor_within_the_organisation(world):
    staff, skills = world.staff(UTRECHT), world.skills()
    made = [world.assignment(staff, skills) for _ in range(5)]
    world.assignment(world.staff(GRONINGEN), skills)

    first = world.client.get(f"{API}/opdrachten?limit=3", headers=staff).json()
    rest = world.client.get(f"{API}/opdrachten?limit=3&cursor={first['nextCursor']}",
                            headers=staff).json()

    assert [a["id"] for a in first["items"] + rest["items"]] == made
    assert rest["nextCursor"] is None


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "cursor=-1",
                                   "cursor=Niet%20Goed",
                                   "cursor=99999999999999999999", "cursor=zz"])
def test_a_bad_page_request_is_refused(world, query):
    staff = world.staff(UTRECHT)
    sanne = world.holder(world.skills())

    if not query.startswith("cursor=N"):
        assert world.client.get(f"{API}/opdrachten?{query}", headers=staff
                                ).status_code == 400
    if query.startswith(("limit", "cursor=N")):
        assert world.client.get(f"{API}/groepen?{query}", headers=sanne.headers
                                ).status_code == 400


def test_listing_groups_costs_one_query_whatever_their_number(world):
    from sqlalchemy import event

    sanne = world.holder(world.skills())
    for n in range(6):
        _group(world, sanne, n)
    engine = world.system.registry.engine
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        world.system.work.peers.groups(limit=100)
    finally:
        event.remove(engine, "before_cursor_execute", listener)

    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


def test_a_full_page_of_groups_still_says_another_follows(world, monkeypatch):
    from registry import peers

    monkeypatch.setattr(peers, "GROUP_PAGE", 3)
    sanne = world.holder(world.skills())
    for n in range(4):
        assert _group(world, sanne, n).status_code == 201

    page = world.system.work.peers.groups(4)

    assert [g.slug for g in page] == [f"groep-{n}" for n in range(4)]


def test_an_assignment_keeps_a_bounded_number_of_passes(world, monkeypatch):
    monkeypatch.setattr(limits, "MAX_PASSES_PER_ASSIGNMENT", 2)
    skills = world.skills()
    people = [world.holder(skills) for _ in range(3)]
    for person in people:
        world.grant(person, ["skills"])
    staff = world.staff(UTRECHT)
    assignment, other = world.assignment(staff, skills), world.assignment(staff, skills)

    def passing(job, person):
        return world.client.post(f"{API}/opdrachten/{job}/gepasseerd", headers=staff,
                                 json={"subject": world.seen_by(person)})

    answers = [passing(assignment, p).status_code for p in people]
    again = passing(assignment, people[0])

    assert answers == [204, 204, 409]
    assert again.status_code == 204  # a pass already made takes no new place
    assert len(world.system.registry.assignments.passed(assignment)) == 2
    assert passing(other, people[2]).status_code == 204
