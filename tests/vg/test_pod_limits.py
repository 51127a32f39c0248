"""Ceilings on what one pod holds: a pod is created without an account, so a
holder (or anyone) can not grow it, or the registry, without bound. A refusal is a
409 problem and changes nothing."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import text

from pod import limits
from tests.vg.test_pod_api import NOW, PASSPHRASE, PROBLEM, UTRECHT, Holder, api, holder  # noqa: F401

GRANTS = "/api/v1/pod/toestemmingen"


def _grant_body(days: int = 30) -> dict:
    return {"audience": {"kind": "organisation", "organisations": [UTRECHT]},
            "purposes": ["matching"], "fields": ["skills"],
            "validUntil": (NOW + timedelta(days=days)).isoformat()}


def _disclosures(api) -> int:
    with api.system.registry.engine.connect() as conn:
        return conn.execute(text("select count(*) from disclosure")).scalar()


def test_a_grant_past_the_live_limit_is_refused_and_nothing_is_published(
        api, holder, monkeypatch):
    monkeypatch.setattr(limits, "MAX_LIVE_GRANTS", 3)
    for _ in range(3):
        assert api.post(GRANTS, json=_grant_body(), headers=holder.headers).status_code == 201
    published = _disclosures(api)

    refused = api.post(GRANTS, json=_grant_body(), headers=holder.headers)

    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["code"] == "grant-limit-reached"
    assert _disclosures(api) == published
    assert len(api.get(GRANTS, headers=holder.headers).json()) == 3


def at_once(count: int, request) -> list:
    """``request(k)`` from ``count`` threads released together; their answers."""
    start = threading.Barrier(count)
    answers: list = [None] * count

    def one(k: int) -> None:
        start.wait()
        answers[k] = request(k)

    threads = [threading.Thread(target=one, args=(k,)) for k in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_concurrent_grants_never_pass_the_live_limit(api, holder, monkeypatch):
    monkeypatch.setattr(limits, "MAX_LIVE_GRANTS", 3)
    assert api.post(GRANTS, json=_grant_body(), headers=holder.headers).status_code == 201

    answers = at_once(6, lambda k: api.post(GRANTS, json=_grant_body(),
                                            headers=holder.headers))

    assert sorted(a.status_code for a in answers) == [201, 201, 409, 409, 409, 409]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {
        "grant-limit-reached"}
    assert len(api.get(GRANTS, headers=holder.headers).json()) == 3
    assert _disclosures(api) == 3


def test_concurrent_grants_never_pass_the_recorded_limit(api, holder, monkeypatch):
    monkeypatch.setattr(limits, "MAX_GRANT_RECORDS", 2)
    made = api.post(GRANTS, json=_grant_body(), headers=holder.headers).json()
    api.delete(f"{GRANTS}/{made['id']}", headers=holder.headers)

    answers = at_once(5, lambda k: api.post(GRANTS, json=_grant_body(),
                                            headers=holder.headers))

    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409]
    assert len(api.get(GRANTS, headers=holder.headers).json()) == 2


def _renew(api, holder, grant_id: str, days: int = 60):
    return api.post(f"{GRANTS}/{grant_id[9:]}/verlenging", headers=holder.headers,
                    json={"validUntil": (NOW + timedelta(days=days)).isoformat()})


def _live(api, holder) -> list[dict]:
    return [g for g in api.get(GRANTS, headers=holder.headers).json() if g["live"]]


def test_concurrent_renewals_of_one_grant_leave_one_live_grant(api, holder):
    old = api.post(GRANTS, json=_grant_body(), headers=holder.headers).json()["id"]

    answers = at_once(6, lambda k: _renew(api, holder, old, days=60 + k))

    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409, 409]
    assert {a.json()["code"] for a in answers if a.status_code == 409} <= {
        "grant-not-live", "grant-renewed"}
    [won] = [a.json() for a in answers if a.status_code == 201]
    assert won["renews"] == old
    assert [g["id"] for g in _live(api, holder)] == [won["id"]]
    assert _disclosures(api) == 1


def test_concurrent_renewals_never_pass_the_live_limit(api, holder, monkeypatch):
    monkeypatch.setattr(limits, "MAX_LIVE_GRANTS", 3)
    made = [api.post(GRANTS, json=_grant_body(), headers=holder.headers).json()["id"]
            for _ in range(3)]

    answers = at_once(6, lambda k: _renew(api, holder, made[0], days=60 + k))

    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409, 409]
    assert len(_live(api, holder)) == 3
    assert _disclosures(api) == 3


def test_a_renewed_grant_can_not_be_renewed_again(api, holder):
    old = api.post(GRANTS, json=_grant_body(), headers=holder.headers).json()["id"]
    assert _renew(api, holder, old).status_code == 201

    again = _renew(api, holder, old, days=90)

    assert (again.status_code, again.json()["code"]) == (409, "grant-renewed")
    assert len(_live(api, holder)) == 1


def test_a_withdrawn_grant_frees_its_place(api, holder, monkeypatch):
    monkeypatch.setattr(limits, "MAX_LIVE_GRANTS", 2)
    first = api.post(GRANTS, json=_grant_body(), headers=holder.headers).json()
    api.post(GRANTS, json=_grant_body(), headers=holder.headers)
    assert api.post(GRANTS, json=_grant_body(), headers=holder.headers).status_code == 409

    gone = api.delete(f"{GRANTS}/{first['id']}", headers=holder.headers)

    assert gone.status_code in (200, 204), gone.text
    assert api.post(GRANTS, json=_grant_body(), headers=holder.headers).status_code == 201


def test_recorded_grants_are_bounded_too(api, holder, monkeypatch):
    monkeypatch.setattr(limits, "MAX_GRANT_RECORDS", 2)
    for _ in range(2):
        made = api.post(GRANTS, json=_grant_body(), headers=holder.headers).json()
        api.delete(f"{GRANTS}/{made['id']}", headers=holder.headers)

    refused = api.post(GRANTS, json=_grant_body(), headers=holder.headers)

    assert (refused.status_code, refused.json()["code"]) == (409, "grant-limit-reached")


def test_a_grant_before_any_workcontext_says_to_store_one_first(api):
    created = api.post("/api/v1/pods", json={"passphrase": PASSPHRASE}).json()
    headers = {"Authorization": f"Bearer {created['session']}"}

    refused = api.post(GRANTS, json=_grant_body(), headers=headers)

    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "workcontext-missing"
    assert api.get(GRANTS, headers=headers).json() == []
    assert _disclosures(api) == 0


def test_a_new_pod_answers_its_pod_id(api):
    created = api.post("/api/v1/pods", json={"passphrase": PASSPHRASE}).json()

    assert created["podId"] == api.system.pods.pod_id(created["did"])
    root = api.get(f"/api/v1/pods/{created['podId']}/",
                   headers={"Authorization": f"Bearer {created['session']}"})
    assert root.status_code == 200


def _put(api, holder, name: str, data: bytes):
    return api.put(holder.base + f"bestanden/{name}", content=data,
                   headers={**holder.headers, "Content-Type": "application/pdf"})


def _stored_files(holder, api) -> list:
    folder = api.system.settings.pods_dir / holder.base.rstrip("/").rsplit("/", 1)[-1]
    return sorted(p.name for p in (folder / "binaries").iterdir())


def test_a_file_past_the_count_limit_is_refused_but_a_replacement_is_taken(
        api, holder, monkeypatch):
    monkeypatch.setattr(limits, "MAX_BINARIES", 2)
    assert _put(api, holder, "a.pdf", b"a").status_code == 201
    assert _put(api, holder, "b.pdf", b"b").status_code == 201
    files = _stored_files(holder, api)

    refused = _put(api, holder, "c.pdf", b"c")

    assert (refused.status_code, refused.json()["code"]) == (409, "storage-quota-reached")
    assert refused.headers["content-type"] == PROBLEM
    assert _stored_files(holder, api) == files
    assert _put(api, holder, "b.pdf", b"bb").status_code == 201


def test_an_upload_past_the_byte_limit_is_refused_and_leaves_nothing(
        api, holder, monkeypatch):
    monkeypatch.setattr(limits, "MAX_BINARY_TOTAL", 300_000)
    assert _put(api, holder, "a.pdf", b"a" * 200_000).status_code == 201
    files = _stored_files(holder, api)

    refused = _put(api, holder, "b.pdf", b"b" * 200_000)

    assert (refused.status_code, refused.json()["code"]) == (409, "storage-quota-reached")
    assert _stored_files(holder, api) == files
    listed = api.get(holder.base + "bestanden/", headers=holder.headers).json()
    assert [c.rsplit("/", 1)[-1] for c in listed["contains"]] == ["a.pdf"]
    # Replacing the one file with one just as large fits: its own bytes are freed.
    assert _put(api, holder, "a.pdf", b"c" * 250_000).status_code == 201


def test_concurrent_uploads_never_pass_the_count_limit_and_all_taken_read_back(
        api, holder, monkeypatch):
    monkeypatch.setattr(limits, "MAX_BINARIES", 3)
    assert _put(api, holder, "a.pdf", b"a").status_code == 201

    answers = at_once(6, lambda k: _put(api, holder, f"f{k}.pdf", f"file {k}".encode()))

    taken = [k for k, a in enumerate(answers) if a.status_code == 201]
    assert len(taken) == 2
    assert {a.json()["code"] for a in answers if a.status_code != 201} == {
        "storage-quota-reached"}
    for k in taken:
        read = api.get(holder.base + f"bestanden/f{k}.pdf", headers=holder.headers)
        assert (read.status_code, read.content) == (200, f"file {k}".encode())
    assert len(_stored_files(holder, api)) == 3
