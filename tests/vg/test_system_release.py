"""A closed application releases its system: nothing in the process (FastAPI's
caches, event listeners, threads) keeps the application, the system or its
database engines alive once the caller lets go of them."""

from __future__ import annotations

import gc
import weakref
from datetime import datetime, timezone

from fastapi.testclient import TestClient

from vg.app import create_app
from vg.settings import Settings

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
PASSPHRASE = "een lange wachtzin 42"


def _run_once(data_dir) -> list[weakref.ref]:
    app = create_app(Settings(data_dir=data_dir, kdf_level="interactive"),
                     clock=lambda: NOW)
    system = app.state.system
    with TestClient(app, base_url="https://testserver") as client:
        assert client.post("/api/v1/pods",
                           json={"passphrase": PASSPHRASE}).status_code == 201
        assert client.get("/api/v1/openapi.json").status_code == 200
        assert client.get("/inloggen").status_code == 200
    return [weakref.ref(thing) for thing in
            (app, system, system.registry, system.audit,
             system.registry.engine, system.audit.engine)]


def test_applications_opened_and_closed_leave_nothing_of_theirs_alive(tmp_path):
    refs = [ref for n in range(3) for ref in _run_once(tmp_path / str(n))]

    gc.collect()

    assert [ref() for ref in refs if ref() is not None] == []


def test_a_closed_application_closes_the_system_it_built(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, kdf_level="interactive"),
                     clock=lambda: NOW)
    with TestClient(app) as client:
        client.post("/api/v1/pods", json={"passphrase": PASSPHRASE})
        pool = app.state.system.registry.engine.pool

    assert pool.checkedin() == 0  # disposed: no connection kept open
