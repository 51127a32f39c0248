"""The application deletes the registry data of expired grants within a minute even
when nobody reads, on the application's clock (GDPR art. 5(1)(e))."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi.testclient import TestClient

import vg.app
from tests.factories import (NOW, PASSPHRASE, disclosure, disclosure_rows, holder_key,
                             signed_grant)
from vg.app import create_app
from vg.settings import Settings


def test_the_purge_loop_deletes_expired_disclosures_without_any_read(tmp_path,
                                                                     monkeypatch):
    monkeypatch.setattr(vg.app, "PURGE_INTERVAL_SECONDS", 0.05)
    clock = {"now": NOW}
    app = create_app(Settings(data_dir=tmp_path, kdf_level="interactive"),
                     clock=lambda: clock["now"])
    registry = app.state.system.registry
    key = holder_key(3)
    short = signed_grant(key, ["skills"], lifetime=timedelta(hours=1))
    long = signed_grant(key, ["level"], lifetime=timedelta(days=30))
    registry.receive_disclosure(disclosure(key, short, 1), NOW)
    registry.receive_disclosure(disclosure(key, long, 2), NOW)

    with TestClient(app):
        time.sleep(0.3)
        assert len(disclosure_rows(registry.engine)) == 2  # nothing expired yet
        clock["now"] = NOW + timedelta(hours=1)
        deadline = time.monotonic() + 5
        while len(disclosure_rows(registry.engine)) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)

    assert [row.grant_id for row in disclosure_rows(registry.engine)] == [long.id]


def test_the_purge_interval_is_at_most_a_minute():
    assert 0 < vg.app.PURGE_INTERVAL_SECONDS <= 60


def test_the_purge_loop_drops_the_keys_of_ended_sessions(tmp_path, monkeypatch):
    monkeypatch.setattr(vg.app, "PURGE_INTERVAL_SECONDS", 0.05)
    clock = {"now": NOW}
    app = create_app(Settings(data_dir=tmp_path, kdf_level="interactive"),
                     clock=lambda: clock["now"])
    pods = app.state.system.pods
    pod = pods.create(PASSPHRASE, NOW)
    pods.open_with_key(pod.did, pod.passkey, NOW, until=NOW + timedelta(minutes=30))

    with TestClient(app):
        time.sleep(0.3)
        assert len(pods.opened) == 1  # the session lives
        clock["now"] = NOW + timedelta(minutes=30)
        deadline = time.monotonic() + 5
        while len(pods.opened) and time.monotonic() < deadline:
            time.sleep(0.05)

    assert len(pods.opened) == 0
