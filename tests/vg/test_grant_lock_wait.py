"""The pod's grant lock is waited for a bounded time: a request of the holder that
is stuck holding it does not make every later consent request of that pod hang.
When the wait runs out the answer is 503 application/problem+json with
Retry-After, and nothing changed."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from pod import PodBusy
from tests.factories import NOW
from tests.vg.test_api import UTRECHT, _holder, _skills
from vg import holder_flows
from vg.app import create_app
from vg.settings import Settings

PASSPHRASE = "een lange wachtzin 42"


@pytest.fixture()
def api(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, kdf_level="interactive",
                              grant_lock_seconds=1), clock=lambda: NOW)
    client = TestClient(app)
    client.system = app.state.system
    return client


class StuckRequest:
    """Another request of the holder that holds the pod's grant lock until
    released."""

    def __init__(self, pod):
        self._taken, self._release = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._hold, args=(pod,))
        self._thread.start()
        assert self._taken.wait(10)

    def _hold(self, pod) -> None:
        with pod.grants_locked(wait=30):
            self._taken.set()
            self._release.wait(30)

    def release(self) -> None:
        self._release.set()
        self._thread.join(10)


def _grant_body() -> dict:
    return {"audience": {"kind": "employer_and_neighbours", "employer": UTRECHT},
            "purposes": ["matching"], "fields": ["skills"],
            "validUntil": "2026-12-30T12:00:00+00:00"}


def test_a_grant_request_behind_a_stuck_one_gets_503_with_retry_after(api):
    did, headers = _holder(api, _skills(api))
    stuck = StuckRequest(holder_flows.unlock(api.system, did, PASSPHRASE, NOW))
    try:
        started = time.monotonic()
        response = api.post("/api/v1/pod/toestemmingen", json=_grant_body(),
                            headers=headers)
        waited = time.monotonic() - started
        listed = api.get("/api/v1/pod/toestemmingen", headers=headers)
    finally:
        stuck.release()

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "pod-busy"
    assert int(response.headers["retry-after"]) >= 1
    assert waited < 10
    assert listed.status_code == 200 and listed.json() == []


def test_after_the_stuck_request_ends_the_grant_request_goes_through(api):
    did, headers = _holder(api, _skills(api))
    stuck = StuckRequest(holder_flows.unlock(api.system, did, PASSPHRASE, NOW))
    stuck.release()

    response = api.post("/api/v1/pod/toestemmingen", json=_grant_body(),
                        headers=headers)

    assert response.status_code == 201, response.text


def test_the_lock_waits_no_longer_than_asked(tmp_path):
    from tests.factories import pod_store

    store = pod_store(tmp_path)
    pod = store.create(PASSPHRASE, NOW)
    stuck = StuckRequest(pod)
    try:
        started = time.monotonic()
        with pytest.raises(PodBusy) as refused:
            with pod.grants_locked(wait=0.2):
                pass
        waited = time.monotonic() - started
    finally:
        stuck.release()

    assert 0.2 <= waited < 2
    assert refused.value.retry_after >= 1


def test_the_lock_is_taken_again_by_the_thread_that_holds_it_without_waiting(
        tmp_path):
    from tests.factories import pod_store

    pod = pod_store(tmp_path).create(PASSPHRASE, NOW)
    with pod.grants_locked(wait=0.1):
        with pod.grants_locked(wait=0.1):
            pass
