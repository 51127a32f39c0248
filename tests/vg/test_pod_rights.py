"""Moving a pod in (``POST /pods/import``): the archive's key derivation is bounded
before it runs, its documents are stored as a save would store them, and the pod's
grants are published above every sequence number the registry has seen, with what
the registry did not take reported, as after a save."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from consent import HolderKey, sign_document
from pod import crypto
from pod.archive import ARCHIVE_TYPE, CONTEXT
from tests.factories import disclosure_rows
from tests.vg.test_pod_api import (
    LD,
    NOW,
    PASSPHRASE,
    PROBLEM,
    UTRECHT,
    Holder,
    _deliver_rating,
    _patch,
    _rating,
    make_api,
)

IMPORT = "/api/v1/pods/import"
SUMMARY = {"type": "RatingSummary", "ratingCount": 1000, "averageScore": "5.0"}


@pytest.fixture()
def api(tmp_path):
    return make_api(tmp_path / "server")


@pytest.fixture()
def other(tmp_path):
    return make_api(tmp_path / "other")


@pytest.fixture()
def holder(api) -> Holder:
    return Holder(api)


def grant(api, holder: Holder, fields=("skills",)) -> str:
    body = {"audience": {"kind": "employer_and_neighbours", "employer": UTRECHT},
            "purposes": ["matching"], "fields": list(fields),
            "validUntil": (NOW + timedelta(days=30)).isoformat()}
    response = api.post("/api/v1/pod/toestemmingen", json=body, headers=holder.headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def export(api, holder: Holder) -> dict:
    answer = api.post("/api/v1/pod/export", headers=holder.headers,
                      json={"passphrase": PASSPHRASE})
    assert answer.status_code == 200, answer.text
    return answer.json()


def erase(api, holder: Holder) -> None:
    answer = api.request("DELETE", "/api/v1/pod", headers=holder.headers,
                         json={"passphrase": PASSPHRASE})
    assert answer.status_code == 200, answer.text


def holder_key(api, holder: Holder) -> HolderKey:
    return HolderKey(api.system.pods.unlock(holder.did, PASSPHRASE).key_material()[0])


def resigned(archive: dict, key: HolderKey, change) -> dict:
    """The holder's own archive, changed and signed again with their own key."""
    body = {k: v for k, v in archive.items() if k != "proof"}
    change(body)
    return sign_document(body, key)


def session(answer) -> dict:
    return {"Authorization": f"Bearer {answer.json()['session']}"}


def projections(api, did: str) -> list[dict]:
    return [json.loads(row.projection) for row in
            disclosure_rows(api.system.registry.engine) if row.holder_did == did]


# -- the sealed identity key's Argon2id cost ---------------------------------------
def test_an_archive_asking_a_gibibyte_of_key_derivation_is_refused_before_deriving(
        api, monkeypatch):
    key = HolderKey(os.urandom(32))
    archive = sign_document({
        "@context": CONTEXT, "type": ARCHIVE_TYPE, "holder": key.did,
        "exported": "2026-12-05T05:00:00Z", "sequence": 0, "history": [],
        "grants": [], "accessLog": [],
        "identityKey": {"alg": "argon2id+xchacha20poly1305",
                        "salt": base64.b64encode(os.urandom(16)).decode(),
                        "opslimit": 4, "memlimit": 1024 ** 3,
                        "sealed": base64.b64encode(os.urandom(72)).decode()}}, key)
    calls = []
    monkeypatch.setattr(crypto, "derive_key", lambda *args: calls.append(args))

    answer = api.post(IMPORT, json={"passphrase": "whatever-passphrase-1",
                                    "archive": archive})

    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["code"] == "invalid-archive"
    assert "Argon2id cost" in answer.json()["detail"]
    assert calls == []
    assert not api.system.pods.exists(key.did)


# -- the rating summary is the new pod's own computation ---------------------------
def test_an_imported_rating_summary_is_computed_by_the_new_pod(api, other, holder):
    _deliver_rating(api, holder, _rating(4, 4))
    assert _patch(api, holder, {"ratingSummary": {}}).status_code == 200
    grant(api, holder, fields=("skills", "rating_summary"))
    archive = export(api, holder)
    assert archive["history"][-1]["document"]["ratingSummary"]["ratingCount"] == 1

    def inflate(body):
        for entry in body["history"]:
            entry["document"]["ratingSummary"] = SUMMARY

    forged = resigned(archive, holder_key(api, holder), inflate)
    answer = other.post(IMPORT, json={"passphrase": PASSPHRASE, "archive": forged})

    assert answer.status_code == 201, answer.text
    moved = session(answer)
    current = other.get("/api/v1/pod/werkcontext", headers=moved).json()
    assert "ratingSummary" not in current
    for number in (v.version for v in other.system.pods.unlock(
            holder.did, PASSPHRASE).versions()):
        version = other.get(f"{holder.base}versies/{number}", headers=moved).json()
        assert "ratingSummary" not in version
    assert [set(p) & {"ratingSummary"} for p in projections(other, holder.did)] == [
        set()]


def test_a_restore_after_erasure_does_not_bring_back_a_forged_summary(api, holder):
    grant(api, holder, fields=("skills", "rating_summary"))
    archive = export(api, holder)
    forged = resigned(archive, holder_key(api, holder), lambda body: body["history"][
        -1]["document"].update(ratingSummary=SUMMARY))
    erase(api, holder)

    answer = api.post(IMPORT, json={"passphrase": PASSPHRASE, "archive": forged})

    assert answer.status_code == 201, answer.text
    assert "ratingSummary" not in api.get("/api/v1/pod/werkcontext",
                                          headers=session(answer)).json()
    assert [p.get("ratingSummary") for p in projections(api, holder.did)] == [None]


# -- publication after an import ----------------------------------------------------
def test_a_pod_erased_and_imported_again_on_one_server_is_published_again(api, holder):
    grant(api, holder)
    grant(api, holder, fields=("skills", "hours_per_week"))
    archive = export(api, holder)
    erase(api, holder)
    assert projections(api, holder.did) == []

    answer = api.post(IMPORT, json={"passphrase": PASSPHRASE, "archive": archive})

    assert answer.status_code == 201, answer.text
    assert answer.json()["published"] == 2 and answer.json()["notPublished"] == []
    assert len(projections(api, holder.did)) == 2
    assert api.system.registry.last_sequence(holder.did) > archive["sequence"] + 1
    saved = api.put("/api/v1/pod/werkcontext", headers={**session(answer), **LD},
                    content=json.dumps(holder.document))
    assert saved.json()["published"] == 2 and saved.json()["notPublished"] == []


def test_an_import_the_registry_can_not_take_says_so_and_keeps_the_pod(
        api, other, holder, monkeypatch):
    from registry import StorageFailed

    grant_id = grant(api, holder)
    archive = export(api, holder)

    def unavailable(document, now):
        raise StorageFailed()

    monkeypatch.setattr(other.system.registry, "receive_disclosure", unavailable)
    answer = other.post(IMPORT, json={"passphrase": PASSPHRASE, "archive": archive})

    assert answer.status_code == 201, answer.text
    assert answer.json()["published"] == 0
    assert answer.json()["notPublished"] == [{"grant": grant_id,
                                               "code": "storage-unavailable"}]
    assert projections(other, holder.did) == []
    monkeypatch.undo()
    saved = other.put("/api/v1/pod/werkcontext", headers={**session(answer), **LD},
                      content=json.dumps(holder.document))
    assert saved.json()["published"] == 1
    assert len(projections(other, holder.did)) == 1


def test_a_refused_import_leaves_no_pod_and_publishes_nothing(api, other, holder):
    grant(api, holder)
    archive = export(api, holder)
    archive["history"][-1]["document"]["name"] = "Someone Else"

    answer = other.post(IMPORT, json={"passphrase": PASSPHRASE, "archive": archive})

    assert answer.status_code == 400 and answer.headers["content-type"] == PROBLEM
    assert not other.system.pods.exists(holder.did)
    assert projections(other, holder.did) == []


def test_a_withdrawal_pending_in_the_archive_is_sent_by_the_import(api, other, holder,
                                                                    monkeypatch):
    from registry import StorageFailed

    grant_id = grant(api, holder)

    def unavailable(*_args):
        raise StorageFailed()

    monkeypatch.setattr(api.system.registry, "receive_withdrawal", unavailable)
    refused = api.delete(f"/api/v1/pod/toestemmingen/{grant_id.split(':')[-1]}",
                         headers=holder.headers)
    assert refused.status_code == 202
    archive = export(api, holder)

    answer = other.post(IMPORT, json={"passphrase": PASSPHRASE, "archive": archive})

    assert answer.status_code == 201, answer.text
    assert answer.json()["published"] == 0 and answer.json()["notPublished"] == []
    [record] = other.system.pods.unlock(holder.did, PASSPHRASE).grants()
    assert record.withdrawn is not None and record.pending is None
    assert projections(other, holder.did) == []


def test_a_grant_withdrawn_after_the_export_stays_withdrawn_through_erasure_and_import(
        api, holder):
    kept = grant(api, holder)
    gone = grant(api, holder, fields=("skills", "hours_per_week"))
    archive = export(api, holder)
    withdrawn = api.delete(f"/api/v1/pod/toestemmingen/{gone.split(':')[-1]}",
                           headers=holder.headers)
    assert withdrawn.status_code in (200, 204), withdrawn.text
    erase(api, holder)

    answer = api.post(IMPORT, json={"passphrase": PASSPHRASE, "archive": archive})

    assert answer.status_code == 201, answer.text
    assert answer.json()["published"] == 1
    assert answer.json()["notPublished"] == [{"grant": gone, "code": "grant-withdrawn"}]
    assert [sorted(p) for p in projections(api, holder.did)] == [
        sorted(projections(api, holder.did)[0])]
    assert all("availability" not in p for p in projections(api, holder.did))
    listed = api.get("/api/v1/pod/toestemmingen", headers=session(answer)).json()
    assert {g["id"]: g["withdrawn"] is not None for g in listed} == {
        kept: False, gone: True}
    saved = api.put("/api/v1/pod/werkcontext", headers={**session(answer), **LD},
                    content=json.dumps(holder.document))
    assert (saved.json()["published"], saved.json()["notPublished"]) == (1, [])


def test_one_archive_imported_several_times_at_once_makes_one_pod(api, holder,
                                                                  monkeypatch):
    grant(api, holder)
    archive = export(api, holder)
    erase(api, holder)
    create_shard = api.system.pods.keyring.create

    def create_shard_slowly(pod_id):
        time.sleep(0.2)  # holds the window between the check and the creation open
        return create_shard(pod_id)

    monkeypatch.setattr(api.system.pods.keyring, "create", create_shard_slowly)
    answers = []

    def run(n):  # from three addresses: one client has 2 imports under way at most
        client = TestClient(api.app, client=(f"10.0.0.{n}", 4000))
        answers.append(client.post(IMPORT, json={"passphrase": PASSPHRASE,
                                                 "archive": archive}))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(a.status_code for a in answers) == [201, 409, 409]
    assert sorted(a.json().get("code", "") for a in answers) == [
        "", "pod-exists", "pod-exists"]
    [created] = [a for a in answers if a.status_code == 201]
    assert api.get("/api/v1/pod/werkcontext",
                   headers=session(created)).json() == holder.document
    assert api.post("/api/v1/sessies", json={"did": holder.did,
                                             "passphrase": PASSPHRASE}).status_code == 201
    assert len(projections(api, holder.did)) == 1


def test_an_import_waits_for_the_clients_place_before_it_reads_the_archive(
        api, monkeypatch):
    """A client with its sign-ins and pod creations under way gets 429 before its
    archive, up to 64 MiB, is parsed: parsing costs memory many times its size."""
    import vg.api.pod_rights as routes
    parsed = []
    monkeypatch.setattr(routes, "read_archive", lambda raw: parsed.append(raw))
    client = TestClient(api.app, client=("10.0.0.77", 4000))
    attempts = api.system.pods.attempts
    slots = [attempts.client_slot("10.0.0.77") for _ in range(attempts.per_client)]
    for slot in slots:
        slot.__enter__()
    try:
        answer = client.post(IMPORT, content=b'{"passphrase": "x", "archive": {}}',
                             headers={"Content-Type": "application/json"})
    finally:
        for slot in slots:
            slot.__exit__(None, None, None)

    assert answer.status_code == 429
    assert answer.json()["code"] == "too-many-attempts"
    assert parsed == []
