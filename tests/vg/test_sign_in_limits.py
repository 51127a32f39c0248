"""Sign-ins that fail can not hold up the others: made-up pods cost no key
derivation, one client has a few sign-ins under way at most, and a pod failed too
often answers 429 with Retry-After, the same whether it exists or not."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient

from pod import crypto
from tests.vg.test_pod_api import PASSPHRASE, PROBLEM, make_api
from tests.vg.web.test_web_pages import csrf, signed_in_holder

MADE_UP = "did:key:z6Mk" + "a" * 44


def test_a_flood_of_made_up_sign_ins_derives_nothing_and_is_cut_off(
        tmp_path, monkeypatch):
    api = make_api(tmp_path / "server")
    did = api.post("/api/v1/pods", json={"passphrase": PASSPHRASE}).json()["did"]
    api.post("/api/v1/sessies", json={"did": MADE_UP, "passphrase": "x" * 12})
    derived = []
    derive = crypto.derive_key
    monkeypatch.setattr(crypto, "derive_key", lambda *args: (
        derived.append(1), derive(*args))[1])
    flood = TestClient(api.app, client=("10.0.0.66", 4000))
    statuses = []

    def guess():
        for n in range(4):
            body = {"did": f"{MADE_UP[:-2]}{n}{n}", "passphrase": "guess-guess-guess"}
            statuses.append(flood.post("/api/v1/sessies", json=body).status_code)

    threads = [threading.Thread(target=guess) for _ in range(6)]
    for thread in threads:
        thread.start()
    signed_in = TestClient(api.app, client=("10.0.0.1", 4000)).post(
        "/api/v1/sessies", json={"did": did, "passphrase": PASSPHRASE})
    for thread in threads:
        thread.join()

    assert signed_in.status_code == 201
    assert len(derived) == 1  # the holder's own
    assert set(statuses) == {401, 429} and statuses.count(401) >= 2


def test_a_pod_failed_too_often_answers_429_whether_it_exists_or_not(tmp_path):
    api = make_api(tmp_path / "server")
    did = api.post("/api/v1/pods", json={"passphrase": PASSPHRASE}).json()["did"]
    answers = {}

    for who in (did, MADE_UP):
        for _ in range(api.system.pods.attempts.free_failures + 1):
            api.post("/api/v1/sessies", json={"did": who, "passphrase": "x" * 12})
        answers[who] = api.post("/api/v1/sessies",
                                json={"did": who, "passphrase": PASSPHRASE})

    for answer in answers.values():
        assert answer.status_code == 429
        assert answer.headers["content-type"] == PROBLEM
        assert answer.json()["code"] == "too-many-attempts"
        assert int(answer.headers["Retry-After"]) >= 1
    assert answers[did].json()["detail"] == answers[MADE_UP].json()["detail"]


def test_the_web_sign_in_is_limited_the_same_way(tmp_path):
    api = make_api(tmp_path / "server")
    client = TestClient(api.app, base_url="https://testserver", follow_redirects=False)
    token = csrf(client.get("/inloggen"))
    form = {"csrf": token, "pod": "0" * 32, "wachtzin": "x" * 12}
    for _ in range(api.system.pods.attempts.free_failures + 1):
        assert client.post("/inloggen", data=form).status_code == 401

    refused = client.post("/inloggen", data=form)

    assert refused.status_code == 429
    assert "Retry-After" in refused.headers


@pytest.mark.parametrize("method, path, body", [
    ("PUT", "/api/v1/pod/wachtzin",
     lambda guess: {"current": guess, "new": "een andere lange wachtzin"}),
    ("POST", "/api/v1/pod/export", lambda guess: {"passphrase": guess}),
    ("DELETE", "/api/v1/pod", lambda guess: {"passphrase": guess}),
])
def test_a_passphrase_asked_again_is_limited_like_a_sign_in(tmp_path, method, path,
                                                            body):
    api = make_api(tmp_path / "server")
    created = api.post("/api/v1/pods", json={"passphrase": PASSPHRASE}).json()
    headers = {"Authorization": f"Bearer {created['session']}"}

    answers = [api.request(method, path, json=body(f"geraden wachtzin {n:03d}"),
                           headers=headers)
               for n in range(api.system.pods.attempts.free_failures + 2)]

    assert [a.status_code for a in answers[:-1]] == [401] * (len(answers) - 1)
    assert answers[-1].status_code == 429
    assert answers[-1].json()["code"] == "too-many-attempts"
    signed_in = api.post("/api/v1/sessies", json={"did": created["did"],
                                                 "passphrase": PASSPHRASE})
    assert signed_in.status_code == 429
    assert api.system.pods.exists(created["did"])


def test_sign_in_failures_count_for_a_passphrase_asked_again(tmp_path):
    api = make_api(tmp_path / "server")
    created = api.post("/api/v1/pods", json={"passphrase": PASSPHRASE}).json()
    headers = {"Authorization": f"Bearer {created['session']}"}
    for _ in range(api.system.pods.attempts.free_failures + 1):
        api.post("/api/v1/sessies",
                 json={"did": created["did"], "passphrase": "x" * 12})

    refused = api.post("/api/v1/pod/export", json={"passphrase": PASSPHRASE},
                       headers=headers)

    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("path, extra", [
    ("/mijn/gegevens/export", {}),
    ("/mijn/gegevens/wissen", {"bevestiging": "WISSEN"}),
])
def test_the_web_pages_asking_the_passphrase_again_are_limited_too(tmp_path, path,
                                                                   extra):
    api = make_api(tmp_path / "server")
    client, _ = signed_in_holder(api.app)
    token = csrf(client.get("/mijn/gegevens"))
    answers = [client.post(path, data={"csrf": token, "wachtzin": f"geraden {n:03d}xx",
                                       **extra}).status_code
               for n in range(api.system.pods.attempts.free_failures + 2)]

    assert answers[:-1] == [401] * (len(answers) - 1)
    assert answers[-1] == 429
