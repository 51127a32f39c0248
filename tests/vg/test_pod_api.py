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


def make_api(data_dir, **settings) -> TestClient:
    app = create_app(Settings(data_dir=data_dir, kdf_level="interactive", **settings),
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
        f"http://127.0.0.1:8000{holder.base}{m}"
        for m in ("werkcontext", "versies/", "bestanden/", "postvak/")]


def test_linked_data_ids_come_from_the_settings_not_the_host_header(api, holder,
                                                                   tmp_path):
    forged = api.get(holder.base, headers={**holder.headers,
                                           "Host": "attacker.example:443"})
    assert "attacker" not in forged.text

    public = make_api(tmp_path / "public", public_url="https://werk.example.nl/")
    other = Holder(public)
    answer = public.get(other.base, headers=other.headers).json()
    assert answer["@id"] == f"https://werk.example.nl{other.base}"


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
    "werkcontext%00", "bestanden/a%5c..%5cstate.bin", "bestanden/%2E%2E",
    "bestanden/a%2Fb", "bestanden/a%2fb/c"])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_a_path_trick_is_refused_before_it_reaches_a_resource(api, holder, suffix,
                                                              method):
    response = api.request(method, holder.base + suffix, content=b"x",
                           headers={**holder.headers,
                                    "Content-Type": "application/octet-stream"})

    assert response.status_code == 400, (method, suffix)
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "invalid-path"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_a_pod_id_in_upper_case_does_not_reach_the_pod(api, holder):
    response = api.get(holder.base.upper().replace("/API/V1/PODS/", "/api/v1/pods/")
                       + "werkcontext", headers=holder.headers)

    assert response.status_code in (400, 404)


def test_a_pod_needs_a_session(api, holder):
    assert api.get(holder.base + "werkcontext").status_code == 401


def test_signing_out_ends_the_session_on_every_route(api, holder):
    assert api.get(holder.base + "werkcontext", headers=holder.headers).status_code == 200
    ended = api.delete("/api/v1/sessies/huidige", headers=holder.headers)
    assert ended.status_code == 204, ended.text
    for path in (holder.base + "werkcontext", "/api/v1/pod/werkcontext"):
        refused = api.get(path, headers=holder.headers)
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith(PROBLEM)
    again = api.post("/api/v1/sessies", json={"did": holder.did, "passphrase": PASSPHRASE})
    fresh = {"Authorization": f"Bearer {again.json()['session']}"}
    assert api.get("/api/v1/pod/werkcontext", headers=fresh).status_code == 200


def test_signing_out_needs_a_live_session(api, holder):
    for headers in ({}, {"Authorization": "Bearer vgs_forged"}):
        refused = api.delete("/api/v1/sessies/huidige", headers=headers)
        assert refused.status_code == 401
        assert refused.headers["content-type"].startswith(PROBLEM)
    assert api.get("/api/v1/pod/werkcontext", headers=holder.headers).status_code == 200


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
def _deliver_rating(api, holder, body: bytes, origin: str = "rater") -> None:
    from registry import FileDropInbox
    from vg.pod_inbox import PodInboxDelivery

    delivery = PodInboxDelivery(api.system.pods, FileDropInbox(api.system.settings
                                                               .data_dir / "drop"))
    delivery.deliver(holder.did, inbox.seal_to(holder.did, body), origin)


def test_a_rating_the_server_delivers_is_read_only_by_the_holder(api, holder):
    _deliver_rating(api, holder, b"rating: 5")

    [message] = api.get(holder.base + "postvak/", headers=holder.headers).json()

    assert base64.b64decode(message["body"]) == b"rating: 5"
    assert message["sender"] == "registry:ratings" and message["readable"]


def test_organisations_have_no_route_into_an_inbox_and_learn_no_pod_id(api, holder):
    body = {"sealed": base64.b64encode(inbox.seal_to(holder.did, b"x" * 64)).decode()}

    existing = api.post(holder.base + "postvak/", json=body, headers=staff(api))
    missing = api.post("/api/v1/pods/" + "0" * 32 + "/postvak/", json=body,
                       headers=staff(api))

    assert existing.status_code == missing.status_code == 405
    assert existing.json() == missing.json()
    assert api.get(holder.base + "postvak/", headers=holder.headers).json() == []


def test_an_unreadable_message_is_listed_deletable_and_hides_nothing(api, holder):
    from registry import FileDropInbox
    from vg.pod_inbox import PodInboxDelivery

    _deliver_rating(api, holder, b"first")
    PodInboxDelivery(api.system.pods, FileDropInbox(api.system.settings.data_dir
                                                    / "drop")).deliver(
        holder.did, os.urandom(64), "garbage")
    _deliver_rating(api, holder, b"later")

    listed = api.get(holder.base + "postvak/", headers=holder.headers)
    [junk] = [m["id"] for m in listed.json() if not m["readable"]]
    one = api.get(holder.base + f"postvak/{junk}", headers=holder.headers)
    deleted = api.delete(holder.base + f"postvak/{junk}", headers=holder.headers)

    assert listed.status_code == 200 and one.status_code == 200
    assert sorted(m["readable"] for m in listed.json()) == [False, True, True]
    assert one.json()["body"] is None
    assert deleted.status_code == 204
    bodies = [base64.b64decode(m["body"]) for m in
              api.get(holder.base + "postvak/", headers=holder.headers).json()]
    assert sorted(bodies) == [b"first", b"later"]


def test_one_rater_can_not_fill_a_holders_inbox(api, holder):
    from pod import InboxQuotaReached

    for _ in range(inbox.MAX_PER_ORIGIN):
        _deliver_rating(api, holder, b"again", origin="one rater")

    with pytest.raises(InboxQuotaReached):
        _deliver_rating(api, holder, b"again", origin="one rater")
    _deliver_rating(api, holder, b"someone else", origin="another rater")
    listed = api.get(holder.base + "postvak/", headers=holder.headers).json()
    assert len(listed) == inbox.MAX_PER_ORIGIN + 1


# -- the holder's rights ---------------------------------------------------------------
def test_an_export_imports_on_another_server_with_the_same_result(api, holder,
                                                                  tmp_path):
    grant(api, holder)
    api.put("/api/v1/pod/werkcontext", headers={**holder.headers, **LD},
            content=json.dumps(workcontext(api, holder.did, 40)))
    video = os.urandom(200_000)
    api.put(holder.base + "bestanden/intro.mp4", content=video,
            headers={**holder.headers, "Content-Type": "video/mp4"})
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
    copied = other.get(holder.base + "bestanden/intro.mp4", headers=moved)
    assert copied.content == video
    assert copied.headers["content-type"] == "video/mp4"
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

    erased = api.request("DELETE", "/api/v1/pod", headers=holder.headers,
                         json={"passphrase": PASSPHRASE})

    assert erased.status_code == 200 and erased.json()["disclosuresPurged"] == 1
    assert disclosure_rows(api.system.registry.engine) == []
    assert not directory.exists()
    assert api.get("/api/v1/pod/werkcontext", headers=holder.headers).status_code == 401
    again = api.post("/api/v1/sessies", json={"did": holder.did,
                                              "passphrase": PASSPHRASE})
    assert again.status_code == 401


def test_an_export_of_a_holder_who_was_seen_carries_the_access_log(api, holder):
    grant(api, holder)
    key = staff(api)
    assignment = api.post("/api/v1/opdrachten", headers=key, json={
        "title": "Omgevingswet", "requiredSkills": holder.document["skills"][:1]})
    seen = api.get(f"/api/v1/opdrachten/{assignment.json()['id']}/kandidaten",
                   headers=key)
    assert seen.json()["total"] == 1
    view = api.get("/api/v1/pod/inzage", headers=holder.headers).json()["entries"]

    archive = api.post("/api/v1/pod/export", headers=holder.headers,
                       json={"passphrase": PASSPHRASE})

    assert archive.status_code == 200, archive.text
    log = archive.json()["accessLog"]
    assert [(e["index"], e["occurredAt"], e["organisation"], e["fields"])
            for e in log] == [(v["index"], v["occurredAt"], v["organisation"],
                               v["fields"]) for v in view]


@pytest.mark.parametrize("spelling", ["{urn}", "{bare}", "urn%3Auuid%3A{bare}"])
def test_a_grant_is_withdrawn_with_the_id_the_api_returned_in_either_spelling(
        api, holder, spelling):
    body = {"audience": {"kind": "employer_and_neighbours", "employer": UTRECHT},
            "purposes": ["matching"], "fields": ["skills"],
            "validUntil": (NOW + timedelta(days=30)).isoformat()}
    urn = api.post("/api/v1/pod/toestemmingen", json=body,
                   headers=holder.headers).json()["id"]
    path = spelling.format(urn=urn, bare=urn.removeprefix("urn:uuid:"))

    receipt = api.get(f"/api/v1/pod/toestemmingen/{path}/ontvangstbewijs",
                      headers=holder.headers)
    withdrawn = api.delete(f"/api/v1/pod/toestemmingen/{path}", headers=holder.headers)

    assert receipt.status_code == 200, receipt.text
    assert withdrawn.status_code == 200, withdrawn.text
    assert withdrawn.json()["id"] == urn and withdrawn.json()["withdrawn"]
    assert disclosure_rows(api.system.registry.engine) == []


@pytest.mark.parametrize("path", ["urn:uuid:nope", "URN:UUID:x", "urn:uuid:urn:uuid:"])
def test_a_grant_id_in_no_known_spelling_is_not_found(api, holder, path):
    response = api.delete(f"/api/v1/pod/toestemmingen/{path}", headers=holder.headers)

    assert response.status_code == 404
    assert response.json()["code"] == "grant-not-found"


@pytest.mark.parametrize("body", [
    None, {"passphrase": "niet de goede wachtzin"}, {},
    '{"passphrase": "niet de goede wachtzin", "passphrase": "%s"}' % PASSPHRASE])
def test_erasure_without_the_passphrase_is_refused_and_erases_nothing(api, holder,
                                                                      body):
    grant(api, holder)

    if isinstance(body, str):  # the right passphrase, but as one member named twice
        refused = api.request("DELETE", "/api/v1/pod", content=body, headers={
            **holder.headers, "Content-Type": "application/json"})
    else:
        refused = api.request("DELETE", "/api/v1/pod", headers=holder.headers,
                              json=body)

    assert refused.status_code in (400, 401), refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert api.system.pods.directory(holder.did).exists()
    assert len(disclosure_rows(api.system.registry.engine)) == 1
    assert api.get("/api/v1/pod/werkcontext", headers=holder.headers).status_code == 200


# -- a refused write changes nothing ---------------------------------------------------
def _versions(api, holder) -> tuple[int, str]:
    listed = api.get(holder.base + "versies/", headers=holder.headers).json()
    etag = api.get(holder.base + "werkcontext", headers=holder.headers).headers["etag"]
    return len(listed["contains"]), etag


@pytest.mark.parametrize("patch", [
    {"skills": "http://data.europa.eu/esco/skill/" + "0" * 8},
    {"skills": ["http://example.org/not-esco"]},
    {"availability": {"period": {"type": "Period", "startDate": "2027-02-01",
                                 "endDate": "2027-01-01"}}},
])
def test_a_write_the_registry_would_refuse_is_400_and_saves_no_version(api, holder,
                                                                      patch):
    grant(api, holder)
    before = _versions(api, holder)

    patched = api.patch(holder.base + "werkcontext", headers={
        **holder.headers, "Content-Type": "application/merge-patch+json"},
        content=json.dumps(patch))
    document = {**holder.document, **patch}
    put = api.put("/api/v1/pod/werkcontext", headers={**holder.headers, **LD},
                  content=json.dumps(document))

    assert (patched.status_code, put.status_code) == (400, 400), patched.text
    assert patched.headers["content-type"] == PROBLEM
    assert _versions(api, holder) == before
    later = api.patch(holder.base + "werkcontext", headers={
        **holder.headers, "Content-Type": "application/merge-patch+json"},
        content=json.dumps({"availability": {"hoursPerWeek": 20}}))
    assert later.status_code == 200 and later.json()["published"] == 1


def test_a_valid_save_the_registry_can_not_take_says_so(api, holder, monkeypatch):
    from registry import StorageFailed

    grant(api, holder)

    def unavailable(document, now):
        raise StorageFailed()

    monkeypatch.setattr(api.system.registry, "receive_disclosure", unavailable)
    saved = api.put("/api/v1/pod/werkcontext", headers={**holder.headers, **LD},
                    content=json.dumps(workcontext(api, holder.did, 24)))

    assert saved.status_code == 200, saved.text
    assert saved.json()["published"] == 0
    [failed] = saved.json()["notPublished"]
    assert failed["code"] == "storage-unavailable" and failed["grant"].startswith(
        "urn:uuid:")
    monkeypatch.undo()
    again = api.put("/api/v1/pod/werkcontext", headers={**holder.headers, **LD},
                    content=json.dumps(workcontext(api, holder.did, 28)))
    assert again.json()["published"] == 1 and again.json()["notPublished"] == []


# -- HTTP semantics -------------------------------------------------------------------
def test_a_range_of_an_empty_binary_is_not_satisfiable(api, holder):
    api.put(holder.base + "bestanden/empty.txt", content=b"", headers=holder.headers)

    response = api.get(holder.base + "bestanden/empty.txt",
                       headers={**holder.headers, "Range": "bytes=0-0"})

    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */0"


def test_if_none_match_star_refuses_to_overwrite(api, holder):
    api.put(holder.base + "bestanden/doc.pdf", content=b"one", headers=holder.headers)
    before = _versions(api, holder)

    binary = api.put(holder.base + "bestanden/doc.pdf", content=b"two",
                     headers={**holder.headers, "If-None-Match": "*"})
    document = api.put(holder.base + "werkcontext", content=json.dumps(
        holder.document), headers={**holder.headers, **LD, "If-None-Match": "*"})
    fresh = api.put(holder.base + "bestanden/new.pdf", content=b"new",
                    headers={**holder.headers, "If-None-Match": "*"})

    assert (binary.status_code, document.status_code) == (412, 412)
    assert fresh.status_code == 201
    assert api.get(holder.base + "bestanden/doc.pdf",
                   headers=holder.headers).content == b"one"
    assert _versions(api, holder) == before


def test_if_none_match_on_a_read_answers_not_modified(api, holder):
    etag = api.get(holder.base + "werkcontext", headers=holder.headers).headers["etag"]

    again = api.get(holder.base + "werkcontext",
                    headers={**holder.headers, "If-None-Match": f'"x", {etag}'})

    assert again.status_code == 304 and again.headers["etag"] == etag


@pytest.mark.parametrize("lines", ["one", "two"])
def test_if_match_succeeds_when_any_tag_in_the_list_matches(api, holder, lines):
    etag = api.get(holder.base + "werkcontext", headers=holder.headers).headers["etag"]
    if lines == "one":
        conditions = [("If-Match", f'"x", {etag}')]
    else:
        conditions = [("If-Match", '"x"'), ("If-Match", etag)]
    headers = [*holder.headers.items(), *LD.items(), *conditions]

    response = api.put(holder.base + "werkcontext", headers=headers,
                       content=json.dumps(workcontext(api, holder.did, 24)))

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("accept, kind", [
    ("application/ld+json;q=0, */*", "application/json"),
    ("application/ld+json;q=abc", "application/ld+json")])
def test_negotiation_honours_q_zero_and_ignores_a_malformed_q(api, holder, accept,
                                                              kind):
    response = api.get(holder.base + "werkcontext",
                       headers={**holder.headers, "Accept": accept})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(kind)


@pytest.mark.parametrize("spelling, status", [
    ("1", 200), ("01", 400), ("1.0", 400), ("-1", 400), ("+1", 400), ("0", 404),
    ("99999999999", 400)])
def test_a_version_has_one_spelling(api, holder, spelling, status):
    resource = api.get(holder.base + f"versies/{spelling}", headers=holder.headers)
    holders = api.get(f"/api/v1/pod/werkcontext/versies/{spelling}",
                      headers=holder.headers)

    assert (resource.status_code, holders.status_code) == (status, status)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/xml"])
def test_a_json_endpoint_refuses_a_body_of_another_type_with_415(api, holder,
                                                                 content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    body = json.dumps({"passphrase": PASSPHRASE}).encode()

    created = api.post("/api/v1/pods", content=body, headers=headers)
    unlocked = api.post("/api/v1/sessies", content=json.dumps(
        {"did": holder.did, "passphrase": PASSPHRASE}), headers=headers)
    exported = api.post("/api/v1/pod/export", content=body,
                        headers={**holder.headers, **headers})

    assert [r.status_code for r in (created, unlocked, exported)] == [415] * 3
    assert created.headers["content-type"] == PROBLEM


def test_a_chunked_body_over_the_cap_is_413(api):
    def chunks():
        for _ in range(400):
            yield b"x" * 1024

    response = api.post("/api/v1/pods", content=chunks(),
                        headers={"Content-Type": "application/json"})

    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


# -- the rating summary is computed, not written ---------------------------------------
def _rating(collaboration: int, others: int) -> bytes:
    aspects = {"collaboration": collaboration, "expertise": others,
               "reliability": others, "communication": others}
    return json.dumps({"type": "Rating", "team": "t", "aspects": aspects,
                       "comment": "", "sent": "2026-12-01T00:00:00Z"}).encode()


def _patch(api, holder, patch):
    return api.patch(holder.base + "werkcontext", headers={
        **holder.headers, "Content-Type": "application/merge-patch+json"},
        content=json.dumps(patch))


def test_a_rating_summary_without_ratings_is_not_stored(api, holder):
    answer = _patch(api, holder, {"ratingSummary": {
        "type": "RatingSummary", "ratingCount": 999, "averageScore": "5.0"}})

    assert answer.status_code == 200, answer.text
    current = api.get(holder.base + "werkcontext", headers=holder.headers).json()
    assert "ratingSummary" not in current


def test_the_rating_summary_is_computed_from_the_ratings_in_the_inbox(api, holder):
    _deliver_rating(api, holder, _rating(5, 4))
    _deliver_rating(api, holder, _rating(5, 5))
    _deliver_rating(api, holder, b"not a rating")
    planted = api.system.pods.directory(holder.did) / "inbox" / "0000000002-ab.msg"
    planted.write_bytes(os.urandom(80))

    published = _patch(api, holder, {"ratingSummary": {"type": "RatingSummary"}})
    edited = _patch(api, holder, {"ratingSummary": {"ratingCount": 999,
                                                    "averageScore": "5.0"}})

    assert (published.status_code, edited.status_code) == (200, 200), published.text
    current = api.get(holder.base + "werkcontext", headers=holder.headers).json()
    # (5+4+4+4 + 5+5+5+5) / 8 = 4.625
    assert current["ratingSummary"] == {"type": "RatingSummary", "ratingCount": 2,
                                        "averageScore": "4.6"}
    withdrawn = _patch(api, holder, {"ratingSummary": None})
    assert withdrawn.status_code == 200
    assert "ratingSummary" not in api.get(holder.base + "werkcontext",
                                          headers=holder.headers).json()


def test_an_unknown_pod_id_is_refused_like_a_wrong_passphrase_without_a_derivation(
        api, holder, monkeypatch):
    """The same answer; the time of a derivation is imitated (pod/derivation.py),
    so made-up ids take no place from real sign-ins."""
    from pod import crypto

    calls = []
    derive = crypto.derive_key
    monkeypatch.setattr(crypto, "derive_key", lambda *args: (calls.append(args[2:]),
                                                             derive(*args))[1])
    known = api.system.pods.pod_id(holder.did)
    answers = []
    for who in (known, "0" * 32, holder.did):
        answer = api.post("/api/v1/sessies", json={"did": who, "passphrase": "fout" * 4})
        assert answer.status_code == 401
        answers.append(answer.json())

    assert len(calls) == 2 and len(set(calls)) == 1  # the two of the real pod
    assert answers[0] == answers[1] == answers[2]


@pytest.mark.parametrize("availability", [
    {"period": {"startDate": "2028-12-12", "endDate": "2027-11-07"}},
    {"hoursPerWeek": 41},
])
def test_a_workcontext_the_registry_would_refuse_is_an_invalid_document(
        api, holder, availability):
    before = api.get(holder.base + "versies/", headers=holder.headers).json()
    document = dict(holder.document, availability={
        "type": "Availability", "hoursPerWeek": 24, **availability})

    answer = api.put("/api/v1/pod/werkcontext", content=json.dumps(document),
                     headers={**holder.headers, **LD})

    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert answer.json()["code"] == "invalid-document"
    assert api.get(holder.base + "versies/", headers=holder.headers).json() == before


def test_a_range_under_an_if_range_of_another_version_sends_the_whole_binary(
        api, holder):
    url = holder.base + "bestanden/r.bin"
    first = api.put(url, content=b"a" * 1024, headers=holder.headers).headers["etag"]
    data = os.urandom(1024)
    current = api.put(url, content=data, headers=holder.headers).headers["etag"]

    answers = [api.get(url, headers={**holder.headers, "Range": "bytes=0-9",
                                     "If-Range": validator})
               for validator in (first, '"nope"', f"W/{current}",
                                 "Sat, 05 Dec 2026 12:00:00 GMT")]

    for answer in answers:
        assert answer.status_code == 200 and answer.content == data
        assert "content-range" not in answer.headers


def test_a_range_under_an_if_range_of_the_current_version_is_served(api, holder):
    url = holder.base + "bestanden/r.bin"
    data = os.urandom(1024)
    etag = api.put(url, content=data, headers=holder.headers).headers["etag"]

    part = api.get(url, headers={**holder.headers, "Range": "bytes=0-9",
                                 "If-Range": etag})
    beyond = api.get(url, headers={**holder.headers, "Range": "bytes=5000-",
                                   "If-Range": '"old"'})

    assert part.status_code == 206 and part.content == data[:10]
    assert part.headers["content-range"] == "bytes 0-9/1024"
    assert beyond.status_code == 200 and beyond.content == data
