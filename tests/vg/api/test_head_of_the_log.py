"""A HEAD of the access log is no reading of it: it is shown no row, so the log does
not record that the DPO read its rows, and its answer does not tell their size
(vg/head_requests.py: a HEAD that reaches personal data is answered 200 without
Content-Length and without an audit entry)."""

from __future__ import annotations

import pytest

from tests.vg.api.world import UTRECHT

API = "/api/v1"


def _tree_size(world, key) -> int:
    note = world.client.get(f"{API}/auditlog/checkpoint", headers=key).text
    return int(note.splitlines()[1])


@pytest.mark.parametrize("path", [
    "/auditlog", "/auditlog?format=csv",
    "/auditlog/signalen?since=2026-12-01&until=2026-12-31"])
def test_a_head_of_the_access_log_appends_no_read_and_tells_no_size(world, path):
    skills = world.skills()
    world.grant(world.holder(skills), ["skills"])
    staff = world.staff(UTRECHT)
    job = world.assignment(staff, skills)
    assert world.client.get(f"{API}/opdrachten/{job}/kandidaten",
                            headers=staff).status_code == 200
    dpo = world.staff(UTRECHT, role="dpo")
    before = _tree_size(world, dpo)

    answer = world.client.head(API + path, headers=dpo)

    assert answer.status_code == 200
    assert _tree_size(world, dpo) == before, "the HEAD was logged as a read"
    assert "content-length" not in answer.headers
