"""The ``world`` fixture: every working-life flow runs on SQLite, and on PostgreSQL
too when ``VG_TEST_POSTGRES_URL`` is set."""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient

from tests.factories import drop_all_tables, running_system
from tests.vg.api.world import NOW, World
from vg.app import create_app

BACKENDS = [
    "sqlite",
    pytest.param("postgres", marks=[
        pytest.mark.postgres,
        pytest.mark.skipif(not os.environ.get("VG_TEST_POSTGRES_URL"),
                           reason="VG_TEST_POSTGRES_URL not set")]),
]


@pytest.fixture(params=BACKENDS)
def world(request, tmp_path):
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        drop_all_tables(url)
    with running_system(tmp_path / "data", url) as system:
        clock = {"now": NOW}
        app = create_app(system=system, clock=lambda: clock["now"])
        found = World(TestClient(app))
        found.clock = clock
        yield found


@pytest.fixture()
def pair(tmp_path):
    """Two applications over one data directory: with and without the fast paths
    for the Workcontext (their answers must be the same)."""
    from tests.vg.test_pod_api import NOW as POD_NOW
    from vg.settings import Settings

    settings = Settings(data_dir=tmp_path / "server", kdf_level="interactive")
    fast = create_app(settings, clock=lambda: POD_NOW)
    slow = create_app(settings, system=fast.state.system, clock=lambda: POD_NOW,
                      fast_paths=False)
    clients = TestClient(fast), TestClient(slow)
    for client in clients:
        client.system = fast.state.system
    return clients
