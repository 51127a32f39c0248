"""The pod over HTTP: resources per pod, negotiation, ETags, merge patch, streamed
binaries with ranges, the inbox, and the holder's rights (export, import, erase)."""

from __future__ import annotations

import base64
import json
import os
from datetime import datetime, timedelta, timezone

import pytest
import rdflib
from fastapi.testclient import TestClient

from pod import inbox
from schemas import WORKCONTEXT_CONTEXT_URL
from tests.factories import disclosure_rows
from vg.app import create_app
from vg.settings import Settings

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
PASSPHRASE = "een lange wachtzin 42"
UTRECHT = "GM0344"
PROBLEM = "application/problem+json"
LD = {"Content-Type": "application/ld+json"}


def make_api(data_dir) -> TestClient:
    app = create_app(Settings(data_dir=data_dir, kdf_level="interactive"),
                     clock=lambda: NOW)
    client = TestClient(app)
    client.system = app.state.system
    return client


@pytest.fixture()
def api(tmp_path):
    return make_api(tmp_path / "server")


class Holder:
    def __init__(self, api, hours: int = 16):
        created = api.post("/api/v1/pods", json={"passphrase": PASSPHRASE}).json()
        self.did = created["did"]
        self.headers = {"Authorization": f"Bearer {created['session']}"}
        self.base = f"/api/v1/pods/{api.system.pods.pod_id(self.did)}/"
        self.document = workcontext(api, self.did, hours)
        saved = api.put("/api/v1/pod/werkcontext", content=json.dumps(self.document),
                        headers={**self.headers, **LD})
        assert saved.status_code == 200, saved.text


def workcontext(api, did: str, hours: int) -> dict:
    tooi = api.system.reference.organisation(UTRECHT).tooi_uri
    return {"@context": WORKCONTEXT_CONTEXT_URL, "id": did, "type": "Person",
            "name": "Sanne de Boer", "email": "sanne@voorbeeld.nl", "worksFor": tooi,
            "skills": sorted(api.system.reference.skills)[:3],
            "availability": {"type": "Availability", "hoursPerWeek": hours}}


@pytest.fixture()
def holder(api) -> Holder:
    return Holder(api)


def grant(api, holder: Holder) -> None:
    body = {"audience": {"kind": "employer_and_neighbours", "employer": UTRECHT},
            "purposes": ["matching"], "fields": ["skills"],
            "validUntil": (NOW + timedelta(days=30)).isoformat()}
    response = api.post("/api/v1/pod/toestemmingen", json=body, headers=holder.headers)
    assert response.status_code == 201, response.text


def staff(api, org: str = UTRECHT) -> dict:
    key = api.system.registry.access.issue_key(org, "staff", "test", NOW)
    return {"Authorization": f"Bearer {key}"}


# -- resources and negotiation -------------------------------------------------------
def test_the_pod_root_is_a_container_of_its_resources(api, holder):
    response = api.get(holder.base, headers=holder.headers)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    assert response.json()["contains"] == [
        f"http://testserver{holder.base}{m}"
        for m in ("werkcontext", "versies/", "bestanden/", "postvak/")]


def test_the_workcontext_reads_as_json_ld_or_as_turtle(api, holder):
    as_json = api.get(holder.base + "werkcontext", headers=holder.headers)
    as_turtle = api.get(holder.base + "werkcontext",
                        headers={**holder.headers, "Accept": "text/turtle"})

    assert as_json.json() == holder.document and as_json.headers["etag"]
    assert as_turtle.headers["content-type"].startswith("text/turtle")
    graph = rdflib.Graph().parse(data=as_turtle.text, format="turtle")
    names = {str(o) for o in graph.objects(predicate=rdflib.URIRef(
        "https://schema.org/name"))}
    assert names == {"Sanne de Boer"}


def test_an_unoffered_media_type_is_not_acceptable(api, holder):
    response = api.get(holder.base + "werkcontext",
                       headers={**holder.headers, "Accept": "image/png"})

    assert response.status_code == 406
    assert response.headers["content-type"] == PROBLEM


def test_head_answers_with_headers_only(api, holder):
    response = api.head(holder.base + "werkcontext", headers=holder.headers)

    assert response.status_code == 200 and response.content == b""
    assert response.headers["etag"]


# -- ETags and merge patch ------------------------------------------------------------
def test_a_put_with_a_stale_etag_is_refused_and_changes_nothing(api, holder):
    etag = api.get(holder.base + "werkcontext", headers=holder.headers).headers["etag"]
    first = api.put(holder.base + "werkcontext", headers={
        **holder.headers, **LD, "If-Match": etag},
        content=json.dumps(workcontext(api, holder.did, 24)))
    second = api.put(holder.base + "werkcontext", headers={
        **holder.headers, **LD, "If-Match": etag},
        content=json.dumps(workcontext(api, holder.did, 32)))

    assert first.status_code == 200 and first.headers["etag"] != etag
    assert second.status_code == 412 and second.json()["code"] == "precondition-failed"
    current = api.get(holder.base + "werkcontext", headers=holder.headers).json()
    assert current["availability"]["hoursPerWeek"] == 24


def test_a_merge_patch_changes_and_removes_members(api, holder):
    response = api.patch(holder.base + "werkcontext", headers={
        **holder.headers, "Content-Type": "application/merge-patch+json"},
        content=json.dumps({"availability": {"hoursPerWeek": 36}, "email": None}))

    assert response.status_code == 200, response.text
    current = api.get(holder.base + "werkcontext", headers=holder.headers).json()
    assert current["availability"] == {"type": "Availability", "hoursPerWeek": 36}
    assert "email" not in current and current["name"] == "Sanne de Boer"


def test_a_patch_that_is_not_a_merge_patch_is_refused(api, holder):
    response = api.patch(holder.base + "werkcontext", headers={
        **holder.headers, "Content-Type": "application/json"}, content="{}")

    assert response.status_code == 415


def test_a_patch_making_the_workcontext_invalid_changes_nothing(api, holder):
    before = api.get(holder.base + "versies/", headers=holder.headers).json()
    response = api.patch(holder.base + "werkcontext", headers={
        **holder.headers, "Content-Type": "application/merge-patch+json"},
        content=json.dumps({"unknownTerm": 1}))

    assert response.status_code == 400
    assert api.get(holder.base + "versies/", headers=holder.headers).json() == before


def test_an_old_version_is_restored_as_the_newest(api, holder):
    api.put("/api/v1/pod/werkcontext", headers={**holder.headers, **LD},
            content=json.dumps(workcontext(api, holder.did, 40)))

    restored = api.post(holder.base + "versies/1/herstel", headers=holder.headers)

    assert restored.json()["version"] == 3
    current = api.get(holder.base + "werkcontext", headers=holder.headers).json()
    assert current == holder.document


# -- paths --------------------------------------------------------------------------
def test_another_holders_pod_answers_as_if_it_did_not_exist(api, holder):
    other = Holder(api)

    for path in ("", "werkcontext", "versies/", "bestanden/", "postvak/"):
        response = api.get(other.base + path, headers=holder.headers)
        assert response.status_code == 404, path
        assert response.json()["code"] == "pod-not-found"


@pytest.mark.parametrize("suffix", [
    "versies%2F1", "versies/%2e%2e/werkcontext", "versies//1", "WERKCONTEXT",
    "werkcontext%00", "bestanden/a%5c..%5cstate.bin", "bestanden/%2E%2E"])
def test_a_path_trick_is_refused_before_it_reaches_a_resource(api, holder, suffix):
    response = api.get(holder.base + suffix, headers=holder.headers)

    assert response.status_code in (400, 404), suffix
    assert response.headers["content-type"] == PROBLEM


def test_a_pod_id_in_upper_case_does_not_reach_the_pod(api, holder):
    response = api.get(holder.base.upper().replace("/API/V1/PODS/", "/api/v1/pods/")
                       + "werkcontext", headers=holder.headers)

    assert response.status_code in (400, 404)


def test_a_pod_needs_a_session(api, holder):
    assert api.get(holder.base + "werkcontext").status_code == 401


# -- binaries -------------------------------------------------------------------------
def test_a_binary_streams_up_and_reads_back_by_range(api, holder):
    data = os.urandom(200_000)
    put = api.put(holder.base + "bestanden/intro.mp4", content=data,
                  headers={**holder.headers, "Content-Type": "video/mp4"})

    assert put.status_code == 201, put.text
    whole = api.get(holder.base + "bestanden/intro.mp4", headers=holder.headers)
    part = api.get(holder.base + "bestanden/intro.mp4",
                   headers={**holder.headers, "Range": "bytes=65530-65545"})
    tail = api.get(holder.base + "bestanden/intro.mp4",
                   headers={**holder.headers, "Range": "bytes=-10"})
    assert whole.content == data and whole.headers["content-type"] == "video/mp4"
    assert part.status_code == 206 and part.content == data[65530:65546]
    assert part.headers["content-range"] == "bytes 65530-65545/200000"
    assert tail.content == data[-10:]


def test_a_range_beyond_the_binary_is_not_satisfiable(api, holder):
    api.put(holder.base + "bestanden/doc.pdf", content=b"x" * 100,
            headers=holder.headers)

    response = api.get(holder.base + "bestanden/doc.pdf",
                       headers={**holder.headers, "Range": "bytes=100-200"})

    assert response.status_code == 416


def test_a_binary_is_listed_and_deleted(api, holder):
    api.put(holder.base + "bestanden/doc.pdf", content=b"pdf", headers=holder.headers)
    listed = api.get(holder.base + "bestanden/", headers=holder.headers).json()

    deleted = api.delete(holder.base + "bestanden/doc.pdf", headers=holder.headers)

    assert listed["contains"][0].endswith("/bestanden/doc.pdf")
    assert deleted.status_code == 204
    assert api.get(holder.base + "bestanden/doc.pdf",
                   headers=holder.headers).status_code == 404


def test_a_binary_above_the_default_body_cap_is_accepted(api, holder):
    data = b"v" * (600 * 1024)
    response = api.put(holder.base + "bestanden/video.mp4", content=data,
                       headers=holder.headers)

    assert response.status_code == 201 and response.json()["size"] == len(data)


# -- inbox ----------------------------------------------------------------------------
def test_an_organisation_delivers_a_sealed_message_only_the_holder_reads(api, holder):
    sealed = inbox.seal_to(holder.did, b"rating: 5")
    posted = api.post(holder.base + "postvak/", headers=staff(api),
                      json={"sealed": base64.b64encode(sealed).decode()})

    assert posted.status_code == 201, posted.text
    [message] = api.get(holder.base + "postvak/", headers=holder.headers).json()
    assert base64.b64decode(message["body"]) == b"rating: 5"
    assert message["sender"] == UTRECHT


def test_an_inbox_refuses_anonymous_senders_and_unknown_pods(api, holder):
    body = {"sealed": base64.b64encode(inbox.seal_to(holder.did, b"x")).decode()}

    assert api.post(holder.base + "postvak/", json=body).status_code == 401
    missing = api.post("/api/v1/pods/" + "0" * 32 + "/postvak/", json=body,
                       headers=staff(api))
    assert missing.status_code == 404


# -- the holder's rights ---------------------------------------------------------------
def test_an_export_imports_on_another_server_with_the_same_result(api, holder,
                                                                  tmp_path):
    grant(api, holder)
    api.put("/api/v1/pod/werkcontext", headers={**holder.headers, **LD},
            content=json.dumps(workcontext(api, holder.did, 40)))
    archive = api.post("/api/v1/pod/export", headers=holder.headers,
                       json={"passphrase": PASSPHRASE})
    assert archive.status_code == 200, archive.text
    other = make_api(tmp_path / "other")

    imported = other.post("/api/v1/pods/import",
                          json={"passphrase": PASSPHRASE, "archive": archive.json()})

    assert imported.status_code == 201, imported.text
    moved = {"Authorization": f"Bearer {imported.json()['session']}"}
    assert imported.json()["did"] == holder.did
    for path in ("/api/v1/pod/werkcontext", "/api/v1/pod/werkcontext/versies",
                 "/api/v1/pod/toestemmingen"):
        assert other.get(path, headers=moved).json() == api.get(
            path, headers=holder.headers).json()
    assert [row.holder_did for row in disclosure_rows(other.system.registry.engine)] == [
        holder.did]


def test_an_export_holds_who_looked_at_the_holders_data(api, holder):
    grant(api, holder)
    org = staff(api)
    created = api.post("/api/v1/opdrachten", headers=org, json={
        "title": "Omgevingswet", "requiredSkills": holder.document["skills"][:1]})
    seen = api.get(f"/api/v1/opdrachten/{created.json()['id']}/kandidaten",
                   headers=org)
    assert seen.json()["total"] == 1

    archive = api.post("/api/v1/pod/export", headers=holder.headers,
                       json={"passphrase": PASSPHRASE})

    assert archive.status_code == 200, archive.text
    [entry] = archive.json()["accessLog"]
    assert entry["organisation"] == UTRECHT and entry["fields"] == ["skills"]
    assert entry["purpose"] == "matching" and entry["occurredAt"].startswith("2026-12-04")


def test_an_export_needs_the_passphrase(api, holder):
    response = api.post("/api/v1/pod/export", headers=holder.headers,
                        json={"passphrase": "niet de goede wachtzin"})

    assert response.status_code == 401


def test_a_changed_passphrase_ends_the_old_session(api, holder):
    changed = api.put("/api/v1/pod/wachtzin", headers=holder.headers,
                      json={"current": PASSPHRASE, "new": "een nieuwe lange wachtzin"})

    assert changed.status_code == 200
    assert api.get("/api/v1/pod/werkcontext", headers=holder.headers).status_code == 401
    fresh = {"Authorization": f"Bearer {changed.json()['session']}"}
    assert api.get("/api/v1/pod/werkcontext", headers=fresh).status_code == 200


def test_erasure_purges_the_registry_and_leaves_nothing_that_opens(api, holder):
    grant(api, holder)
    assert disclosure_rows(api.system.registry.engine)
    directory = api.system.pods.directory(holder.did)

    erased = api.delete("/api/v1/pod", headers=holder.headers)

    assert erased.status_code == 200 and erased.json()["disclosuresPurged"] == 1
    assert disclosure_rows(api.system.registry.engine) == []
    assert not directory.exists()
    assert api.get("/api/v1/pod/werkcontext", headers=holder.headers).status_code == 401
    again = api.post("/api/v1/sessies", json={"did": holder.did,
                                              "passphrase": PASSPHRASE})
    assert again.status_code == 401
