"""The HTTP API end to end: holder, organisation and DPO, including the refusals."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from consent import Audience
from registry import StorageFailed
from schemas import WORKCONTEXT_CONTEXT_URL
from vg.app import create_app
from vg.settings import Settings

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
UTRECHT, ZEIST, GRONINGEN = "GM0344", "GM0355", "GM0014"
LD_JSON = "application/ld+json"


@pytest.fixture()
def api(tmp_path):
    clock = {"now": NOW}
    app = create_app(Settings(data_dir=tmp_path, kdf_level="interactive"),
                     clock=lambda: clock["now"])
    client = TestClient(app)
    client.clock = clock
    client.system = app.state.system
    return client


def _holder(api, skills, employer=UTRECHT):
    created = api.post("/api/v1/pods", json={"passphrase": "een lange wachtzin 42"})
    assert created.status_code == 201
    did, token = created.json()["did"], created.json()["session"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": LD_JSON}
    tooi = api.system.reference.organisation(employer).tooi_uri
    document = {"@context": WORKCONTEXT_CONTEXT_URL, "id": did, "type": "Person",
                "name": "Sanne de Boer", "email": "sanne@voorbeeld.nl",
                "worksFor": tooi, "skills": skills,
                "functionLevel": {"type": "FunctionLevel", "levelSystem": "HR21",
                                  "levelName": "adviseur III", "levelRank": 3,
                                  "salaryScale": 10},
                "availability": {"type": "Availability", "hoursPerWeek": 16}}
    saved = api.put("/api/v1/pod/werkcontext", content=json.dumps(document),
                    headers=headers)
    assert saved.status_code == 200, saved.text
    return did, headers


def _grant(api, headers, fields, audience=None, until=None):
    body = {"audience": audience or {"kind": "employer_and_neighbours",
                                     "employer": UTRECHT},
            "purposes": ["matching"], "fields": fields,
            "validUntil": (until or NOW + timedelta(days=30)).isoformat()}
    response = api.post("/api/v1/pod/toestemmingen", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _key(api, org, role="staff"):
    key = api.system.registry.access.issue_key(org, role, "test", NOW)
    return {"Authorization": f"Bearer {key}"}


def _skills(api, n=3):
    return sorted(api.system.reference.skills)[:n]


def _assignment(api, org_headers, skills):
    response = api.post("/api/v1/opdrachten", headers=org_headers,
                        json={"title": "Omgevingswet", "requiredSkills": skills,
                              "circle": "national"})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_organisation_sees_only_granted_fields_and_each_view_is_logged(api):
    skills = _skills(api)
    _, holder = _holder(api, skills)
    _grant(api, holder, ["skills", "level"])
    staff = _key(api, ZEIST)
    assignment = _assignment(api, staff, skills[:2])

    answer = api.get(f"/api/v1/opdrachten/{assignment}/kandidaten", headers=staff)

    assert answer.status_code == 200
    [candidate] = answer.json()["candidates"]
    assert candidate["fields"] == ["level", "skills"]
    assert set(candidate["workcontext"]) == {"@context", "type", "skills",
                                             "functionLevel"}
    assert "salaryScale" not in candidate["workcontext"]["functionLevel"]
    log = api.get("/api/v1/auditlog", headers=_key(api, ZEIST, "dpo")).json()
    assert [e["subject"] for e in log] == [candidate["subject"]]
    assert log[0]["fields"] == ["level", "skills"]


def test_withdrawn_grant_hides_the_candidate_on_the_next_query(api):
    skills = _skills(api)
    _, holder = _holder(api, skills)
    grant_id = _grant(api, holder, ["skills"])
    staff = _key(api, UTRECHT)
    assignment = _assignment(api, staff, skills)
    url = f"/api/v1/opdrachten/{assignment}/kandidaten"
    assert api.get(url, headers=staff).json()["total"] == 1

    withdrawn = api.delete(f"/api/v1/pod/toestemmingen/{grant_id.split(':')[-1]}",
                           headers=holder)

    assert withdrawn.status_code == 200
    assert withdrawn.json()["live"] is False
    assert api.get(url, headers=staff).json()["candidates"] == []


def test_expired_grant_hides_the_candidate_once_time_passes(api):
    skills = _skills(api)
    _, holder = _holder(api, skills)
    _grant(api, holder, ["skills"], until=NOW + timedelta(hours=1))
    staff = _key(api, UTRECHT)
    url = f"/api/v1/opdrachten/{_assignment(api, staff, skills)}/kandidaten"
    assert api.get(url, headers=staff).json()["total"] == 1

    api.clock["now"] = NOW + timedelta(hours=2)

    assert api.get(url, headers=staff).json()["total"] == 0


def test_organisation_outside_the_audience_sees_nobody(api):
    skills = _skills(api)
    _, holder = _holder(api, skills)
    _grant(api, holder, ["skills"])
    staff = _key(api, GRONINGEN)
    url = f"/api/v1/opdrachten/{_assignment(api, staff, skills)}/kandidaten"
    assert api.get(url, headers=staff).json()["total"] == 0


def test_holder_sees_who_viewed_their_data(api):
    skills = _skills(api)
    _, holder = _holder(api, skills)
    _grant(api, holder, ["skills"])
    staff = _key(api, UTRECHT)
    api.get(f"/api/v1/opdrachten/{_assignment(api, staff, skills)}/kandidaten",
            headers=staff)

    views = api.get("/api/v1/pod/inzage", headers=holder).json()["entries"]

    assert [(v["organisation"], v["fields"]) for v in views] == [(UTRECHT, ["skills"])]


def test_municipal_dpo_sees_only_their_organisation_and_platform_dpo_sees_all(api):
    skills = _skills(api)
    _, holder = _holder(api, skills)
    _grant(api, holder, ["skills"], audience={"kind": "all_municipalities"})
    for org in (UTRECHT, GRONINGEN):
        staff = _key(api, org)
        api.get(f"/api/v1/opdrachten/{_assignment(api, staff, skills)}/kandidaten",
                headers=staff)

    own = api.get(f"/api/v1/auditlog?organisation={UTRECHT}",
                  headers=_key(api, UTRECHT, "dpo")).json()
    everyone = api.get("/api/v1/auditlog", headers=_key(api, UTRECHT, "platform-dpo"))

    assert {e["organisation"] for e in own} == {UTRECHT}
    assert {e["organisation"] for e in everyone.json()} == {UTRECHT, GRONINGEN}
    verified = api.get("/api/v1/auditlog/verificatie", headers=_key(api, UTRECHT, "dpo"))
    # two requests of an access record and an entry each, and the two DPO reads
    assert verified.json()["ok"] is True and verified.json()["size"] == 6
    other = api.get(f"/api/v1/auditlog?organisation={GRONINGEN}",
                    headers=_key(api, UTRECHT, "dpo"))
    assert other.status_code == 403


def test_staff_key_can_not_read_the_audit_log(api):
    response = api.get("/api/v1/auditlog", headers=_key(api, UTRECHT))
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer vgk_forged"},
                                     {"Authorization": "Basic abc"}])
def test_requests_without_valid_credentials_get_401_problem(api, headers):
    for path in ("/api/v1/opdrachten", "/api/v1/auditlog", "/api/v1/pod/werkcontext"):
        response = api.get(path, headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"


def test_invalid_input_is_400_problem_listing_every_error(api):
    response = api.post("/api/v1/opdrachten", headers=_key(api, UTRECHT),
                        json={"title": "", "requiredSkills": [], "levelMin": 9})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert len(response.json()["errors"]) == 3


def test_remote_context_is_refused_and_nothing_is_stored(api):
    did, holder = _holder(api, _skills(api))
    before = api.get("/api/v1/pod/werkcontext/versies", headers=holder).json()
    document = {"@context": "https://schema.org/", "id": did, "type": "Person",
                "name": "x"}
    response = api.put("/api/v1/pod/werkcontext", content=json.dumps(document),
                       headers=holder)
    assert response.status_code == 400
    assert response.json()["code"] == "remote-context-refused"
    assert api.get("/api/v1/pod/werkcontext/versies", headers=holder).json() == before


def test_oversized_and_deeply_nested_bodies_are_refused(api):
    _, holder = _holder(api, _skills(api))
    big = api.put("/api/v1/pod/werkcontext", content=b"{" + b" " * 300_000 + b"}",
                  headers=holder)
    deep = api.put("/api/v1/pod/werkcontext", content="[" * 50 + "]" * 50,
                   headers=holder)
    assert big.status_code == 413
    assert deep.status_code == 400
    assert deep.headers["content-type"] == "application/problem+json"


def test_wrong_passphrase_and_unknown_pod_look_the_same(api):
    did, _ = _holder(api, _skills(api))
    wrong = api.post("/api/v1/sessies", json={"did": did, "passphrase": "niet goed!!"})
    unknown = api.post("/api/v1/sessies", json={"did": "did:key:z6MkUnknownUnknown",
                                                "passphrase": "niet goed!!"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_a_pod_unlocks_by_its_pod_id_as_on_the_web_pages(api):
    did, _ = _holder(api, _skills(api))
    pod_id = api.system.pods.pod_id(did)

    unlocked = api.post("/api/v1/sessies", json={"did": pod_id,
                                                 "passphrase": "een lange wachtzin 42"})
    wrong = api.post("/api/v1/sessies", json={"did": pod_id,
                                              "passphrase": "niet goed!!"})
    unknown = api.post("/api/v1/sessies", json={"did": "0" * 32,
                                                "passphrase": "niet goed!!"})

    assert unlocked.status_code == 201, unlocked.text
    assert unlocked.json()["did"] == did
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_every_response_carries_api_version_and_security_headers(api):
    for response in (api.get("/api/v1/openapi.json"), api.get("/api/v1/opdrachten")):
        assert response.headers["api-version"] == "1.0.0"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"


def test_openapi_is_published_at_the_versioned_path(api):
    spec = api.get("/api/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/opdrachten/{assignment_id}/kandidaten" in spec["paths"]


def test_signed_disclosure_from_any_pod_is_accepted_once(api):
    skills = _skills(api)
    did, holder = _holder(api, skills)
    pod = api.system.pods.unlock(did, "een lange wachtzin 42")
    grant = pod.add_grant(
        Audience("all_municipalities"), ["matching"], ["skills"],
        NOW + timedelta(days=5), NOW)
    document = pod.disclosure(grant, NOW)

    ld = {"Content-Type": LD_JSON}
    first = api.post("/api/v1/openbaarmakingen", content=json.dumps(document), headers=ld)
    replay = api.post("/api/v1/openbaarmakingen", content=json.dumps(document),
                      headers=ld)

    assert first.status_code == 201
    assert replay.status_code == 409
    assert replay.json()["code"] == "replayed-document"


def test_grant_without_time_zone_is_400_and_nothing_is_stored(api):
    _, holder = _holder(api, _skills(api))
    response = api.post("/api/v1/pod/toestemmingen", headers=holder, json={
        "audience": {"kind": "all_municipalities"}, "purposes": ["matching"],
        "fields": ["skills"], "validUntil": "2027-01-01T00:00:00"})
    assert response.status_code == 400
    assert api.get("/api/v1/pod/toestemmingen", headers=holder).json() == []


def test_grant_the_registry_refuses_is_not_recorded_in_the_pod(api):
    _, holder = _holder(api, _skills(api))
    response = api.post("/api/v1/pod/toestemmingen", headers=holder, json={
        "audience": {"kind": "province", "province": "PV99"},
        "purposes": ["matching"], "fields": ["skills"],
        "validUntil": "2027-01-01T00:00:00Z"})
    assert response.status_code == 400
    assert api.get("/api/v1/pod/toestemmingen", headers=holder).json() == []


def test_workcontext_with_unknown_employer_is_refused_before_it_is_stored(api):
    did, holder = _holder(api, _skills(api))
    _grant(api, holder, ["skills", "employer"])
    versions = api.get("/api/v1/pod/werkcontext/versies", headers=holder).json()
    document = api.get("/api/v1/pod/werkcontext", headers=holder).json()
    document["worksFor"] = "https://identifier.overheid.nl/tooi/id/gemeente/gm9999"

    response = api.put("/api/v1/pod/werkcontext", content=json.dumps(document),
                       headers=holder)

    assert response.status_code == 400
    assert api.get("/api/v1/pod/werkcontext/versies", headers=holder).json() == versions


def test_withdrawal_the_registry_could_not_take_is_answered_as_pending(api, monkeypatch):
    """202, not an error: the withdrawal is recorded, and the answer says that
    the organisation can still see the fields until the registry takes it."""
    skills = _skills(api)
    _, holder = _holder(api, skills)
    grant_id = _grant(api, holder, ["skills"])

    def unavailable(*_args):
        raise StorageFailed()

    monkeypatch.setattr(api.system.registry, "receive_withdrawal", unavailable)
    response = api.delete(f"/api/v1/pod/toestemmingen/{grant_id.split(':')[-1]}",
                          headers=holder)

    assert response.status_code == 202
    assert response.json()["withdrawalPending"] is True
    assert response.json()["stillDisclosed"] is True
    [grant] = api.get("/api/v1/pod/toestemmingen", headers=holder).json()
    assert grant["withdrawn"] is None and grant["withdrawalPending"] is True
    # The audience may still see the fields, and the holder is told so.
    assert grant["stillDisclosed"] is True and grant["live"] is False

    monkeypatch.undo()
    retried = api.delete(f"/api/v1/pod/toestemmingen/{grant_id.split(':')[-1]}",
                         headers=holder)
    assert retried.status_code == 200 and retried.json()["withdrawn"] is not None


@pytest.mark.parametrize("occasion", ["list", "save", "grant", "sign-in"])
def test_a_pending_withdrawal_is_sent_again_whenever_the_pod_is_open(api, monkeypatch,
                                                                    occasion):
    skills = _skills(api)
    did, holder = _holder(api, skills)
    grant_id = _grant(api, holder, ["skills"])
    staff = _key(api, UTRECHT)
    url = f"/api/v1/opdrachten/{_assignment(api, staff, skills)}/kandidaten"

    def unavailable(*_args):
        raise StorageFailed()

    monkeypatch.setattr(api.system.registry, "receive_withdrawal", unavailable)
    assert api.delete(f"/api/v1/pod/toestemmingen/{grant_id}",
                      headers=holder).status_code == 202
    assert api.get(url, headers=staff).json()["candidates"] != []
    monkeypatch.undo()

    if occasion == "list":
        api.get("/api/v1/pod/toestemmingen", headers=holder)
    elif occasion == "save":
        document = api.get("/api/v1/pod/werkcontext", headers=holder).json()
        assert api.put("/api/v1/pod/werkcontext", content=json.dumps(document),
                       headers=holder).status_code == 200
    elif occasion == "grant":
        _grant(api, holder, ["level"], audience={"kind": "organisation",
                                                 "organisations": ["GM0363"]})
    else:
        assert api.post("/api/v1/sessies", json={"did": did, "passphrase": "een lange wachtzin 42"}
                        ).status_code == 201

    assert api.get(url, headers=staff).json()["candidates"] == []
    [withdrawn] = [g for g in api.get("/api/v1/pod/toestemmingen", headers=holder).json()
                   if g["id"] == grant_id]
    assert withdrawn["withdrawn"] is not None and withdrawn["stillDisclosed"] is False


def test_a_pending_withdrawal_is_delivered_by_the_server_without_the_holder(
        api, monkeypatch):
    """The holder withdrew during an outage and left; the server's next round
    sends the kept withdrawal, and the organisation no longer sees the data."""
    skills = _skills(api)
    _, holder = _holder(api, skills)
    grant_id = _grant(api, holder, ["skills"])
    staff = _key(api, UTRECHT)
    url = f"/api/v1/opdrachten/{_assignment(api, staff, skills)}/kandidaten"
    receive = api.system.registry.receive_withdrawal

    def unavailable(*_args):
        raise StorageFailed()

    monkeypatch.setattr(api.system.registry, "receive_withdrawal", unavailable)
    api.delete(f"/api/v1/pod/toestemmingen/{grant_id}", headers=holder)
    assert api.system.withdrawals.deliver_all(api.system.registry, NOW) == 1
    monkeypatch.setattr(api.system.registry, "receive_withdrawal", receive)

    assert api.system.withdrawals.deliver_all(api.system.registry, NOW) == 0
    assert api.get(url, headers=staff).json()["candidates"] == []
    assert api.system.withdrawals.pending() == []
    [grant] = api.get("/api/v1/pod/toestemmingen", headers=holder).json()
    assert grant["withdrawn"] is not None and grant["stillDisclosed"] is False


def test_unexpected_errors_are_500_problems_with_the_usual_headers(api, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(api.system.registry.assignments, "list", broken)
    client = TestClient(api.app, raise_server_exceptions=False)
    response = client.get("/api/v1/opdrachten", headers=_key(api, UTRECHT))

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["api-version"] == "1.0.0"
    assert "boom" not in response.text
