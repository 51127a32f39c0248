"""Bad input over HTTP: a clear 4xx problem, and nothing changes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from consent import Audience
from tests.vg.test_api import (
    LD_JSON,
    NOW,
    UTRECHT,
    _grant,
    _holder,
    _key,
    _skills,
    api,  # noqa: F401  (fixture)
)


def _problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


def _versions(api, holder):
    return api.get("/api/v1/pod/werkcontext/versies", headers=holder).json()


@pytest.mark.parametrize("media_type", ["text/plain", "application/xml", None])
def test_bodies_that_are_not_json_get_415_and_store_nothing(api, media_type):
    did, holder = _holder(api, _skills(api))
    before = _versions(api, holder)
    document = api.get("/api/v1/pod/werkcontext", headers=holder).text
    headers = {"Authorization": holder["Authorization"]}
    if media_type:
        headers["Content-Type"] = media_type

    _problem(api.put("/api/v1/pod/werkcontext", content=document, headers=headers), 415)
    _problem(api.post("/api/v1/openbaarmakingen", content=document, headers=headers),
             415)
    assert _versions(api, holder) == before


@pytest.mark.parametrize("path", [
    "/api/v1/opdrachten/9223372036854775808",
    "/api/v1/opdrachten/9223372036854775808/kandidaten",
    "/api/v1/auditlog?offset=9223372036854775808",
])
def test_out_of_range_identifiers_are_400_not_500(api, path):
    role = "dpo" if "auditlog" in path else "staff"
    _problem(api.get(path, headers=_key(api, UTRECHT, role)), 400)


@pytest.mark.parametrize("body", [
    "[" * 50_000,
    '{"a": 1, "a": 2}',
    '{"name": "\\ud800"}',
    '{"name": "x\\u202ey"}',
    '{"n": 100000000000000000000000}',
])
def test_malformed_json_is_refused_before_it_is_processed(api, body):
    _, holder = _holder(api, _skills(api))
    before = _versions(api, holder)
    _problem(api.put("/api/v1/pod/werkcontext", content=body, headers=holder), 400)
    assert _versions(api, holder) == before


@pytest.mark.parametrize("change", [
    {"availability": {"type": "Availability", "hoursPerWeek": True}},
    {"availability": {"type": "Availability", "hoursPerWeek": "16"}},
    {"availability": {"type": "Availability", "hoursPerWeek": 10**12}},
    {"name": ["a", "b"]},
    {"functionLevel": {"@context": "https://example.org/ctx", "levelRank": 3}},
])
def test_workcontext_values_of_the_wrong_type_store_no_version(api, change):
    _, holder = _holder(api, _skills(api))
    _grant(api, holder, ["hours_per_week", "name"])
    before = _versions(api, holder)
    document = {**api.get("/api/v1/pod/werkcontext", headers=holder).json(), **change}

    _problem(api.put("/api/v1/pod/werkcontext", content=json.dumps(document),
                     headers=holder), 400)
    assert _versions(api, holder) == before


def _foreign_disclosure(api, change):
    """A disclosure signed by a real pod, its projection then changed and re-signed by
    the same holder: the holder's signature is valid, the content is not."""
    did, _ = _holder(api, _skills(api))
    pod = api.system.pods.unlock(did, "een lange wachtzin 42")
    grant = pod.add_grant(Audience("all_municipalities"), ["matching"],
                          ["skills", "level", "available_period", "field_of_work"],
                          NOW + timedelta(days=5), NOW)
    document = pod.disclosure(grant, NOW)
    body = {k: v for k, v in document.items() if k != "proof"}
    change(body)
    return pod.sign(body)


@pytest.mark.parametrize("change", [
    lambda b: b["workcontext"].update(functionLevel={
        "@context": "http://127.0.0.1:9/ctx", "type": "FunctionLevel",
        "levelSystem": "HR21", "levelName": "x", "levelRank": 3}),
    lambda b: b["workcontext"].update(fieldOfWork={"deep": {"a": 1}}),
    lambda b: b["workcontext"].update(skills=["http://data.europa.eu/esco/skill/nope"]),
    lambda b: b["workcontext"].update(availability={"period": {"startDate": "later"}}),
    lambda b: b.update(extra="member"),
    lambda b: b.update(issued="2027-12-04T12:00:00Z"),
    lambda b: b.update(sequence=2**63),
], ids=["nested-context", "object-for-text", "unknown-skill", "bad-date",
        "extra-member", "issued-in-future", "huge-sequence"])
def test_registry_refuses_signed_but_malformed_disclosures(api, change):
    document = _foreign_disclosure(api, change)
    staff = _key(api, UTRECHT)
    before = api.system.registry.gate.visible(
        api.system.registry.access.authenticate(staff["Authorization"][7:]),
        "matching", NOW)

    response = api.post("/api/v1/openbaarmakingen", content=json.dumps(document),
                        headers={"Content-Type": LD_JSON})

    assert 400 <= response.status_code < 500
    after = api.system.registry.gate.visible(
        api.system.registry.access.authenticate(staff["Authorization"][7:]),
        "matching", NOW)
    assert after == before


def test_withdrawal_naming_something_that_is_not_a_grant_id_is_refused(api):
    did, _ = _holder(api, _skills(api))
    pod = api.system.pods.unlock(did, "een lange wachtzin 42")
    body = {"type": "Withdrawal", "holder": did, "sequence": 99,
            "issued": "2026-12-04T12:00:00Z", "grant": "../../etc/passwd"}
    document = pod.sign(body)
    _problem(api.post("/api/v1/intrekkingen", content=json.dumps(document),
                      headers={"Content-Type": LD_JSON}), 400)


def test_withdrawing_twice_is_harmless(api):
    _, holder = _holder(api, _skills(api))
    grant_id = _grant(api, holder, ["skills"])
    url = f"/api/v1/pod/toestemmingen/{grant_id.split(':')[-1]}"
    first = api.delete(url, headers=holder)
    second = api.delete(url, headers=holder)
    assert first.status_code == second.status_code == 200
    assert first.json()["withdrawn"] == second.json()["withdrawn"]


def test_dpo_keys_do_not_read_assignments(api):
    _problem(api.get("/api/v1/opdrachten", headers=_key(api, UTRECHT, "dpo")), 403)


def test_a_revoked_key_authenticates_nothing(api):
    headers = _key(api, UTRECHT)
    [row] = api.system.registry.access.keys(UTRECHT)
    assert api.system.registry.access.revoke(row.id, NOW) == "revoked"
    _problem(api.get("/api/v1/opdrachten", headers=headers), 401)


def test_an_error_reporting_a_status_field_keeps_its_own_http_status(api, monkeypatch):
    from registry import InvalidAssignment

    def refuse(*_args, **_kwargs):
        error = InvalidAssignment(["status must be open"])
        error.status = "open"  # a fact the error reports, not an HTTP status
        error.code = "whatever"
        raise error

    monkeypatch.setattr(api.system.registry, "create_assignment", refuse)
    response = api.post("/api/v1/opdrachten", headers=_key(api, UTRECHT),
                        json={"title": "x", "requiredSkills": _skills(api, 1)})
    body = _problem(response, 400)
    assert body["code"] == "invalid-assignment"


def _grants(api, holder):
    return api.get("/api/v1/pod/toestemmingen", headers=holder).json()


@pytest.mark.parametrize("media_type", ["application/json", LD_JSON])
def test_typed_bodies_with_a_member_named_twice_are_refused_and_change_nothing(
        api, media_type):
    _, holder = _holder(api, _skills(api))
    staff = {**_key(api, UTRECHT, "staff"), "Content-Type": media_type}
    session = {"Authorization": holder["Authorization"], "Content-Type": media_type}
    until = (NOW + timedelta(days=30)).isoformat()
    grant = ('{"audience": {"kind": "all_municipalities"}, "purposes": ["matching"],'
             ' "fields": ["skills"], "validUntil": "%s", "validUntil": "%s"}'
             % (until, until))
    assignment = ('{"title": "eerste", "requiredSkills": ["%s"], "circle": "national",'
                  ' "title": "tweede"}' % _skills(api)[0])
    grants_before = _grants(api, holder)
    pods_before = len(list(api.system.pods.root.iterdir()))

    answers = [
        api.post("/api/v1/pods", headers={"Content-Type": media_type},
                 content='{"passphrase": "kort", "passphrase": "een lange wachtzin 42"}'),
        api.post("/api/v1/pod/toestemmingen", headers=session, content=grant),
        api.post("/api/v1/opdrachten", headers=staff, content=assignment),
    ]

    for answer in answers:
        assert "duplicate member names" in _problem(answer, 400)["detail"]
    assert _grants(api, holder) == grants_before
    assert len(list(api.system.pods.root.iterdir())) == pods_before
    assert api.get("/api/v1/opdrachten", headers=staff).json()["items"] == []


@pytest.mark.parametrize("depth", [9, 5000])
def test_typed_bodies_nested_too_deep_are_invalid_input_and_change_nothing(api, depth):
    _, holder = _holder(api, _skills(api))
    staff = {**_key(api, UTRECHT, "staff"), "Content-Type": "application/json"}
    session = {"Authorization": holder["Authorization"],
               "Content-Type": "application/json"}
    nested = "[" * depth + "]" * depth
    grants_before = _grants(api, holder)
    pods_before = len(list(api.system.pods.root.iterdir()))

    answers = [
        api.post("/api/v1/pods", headers={"Content-Type": "application/json"},
                 content='{"passphrase": %s}' % nested),
        api.post("/api/v1/pod/toestemmingen", headers=session,
                 content='{"audience": %s}' % nested),
        api.post("/api/v1/opdrachten", headers=staff,
                 content='{"title": "diep", "requiredSkills": %s}' % nested),
    ]

    for answer in answers:
        problem = _problem(answer, 400)
        assert problem["code"] == "invalid-input"
        assert problem["detail"] == "body: document is nested deeper than 8 levels"
    assert _grants(api, holder) == grants_before
    assert len(list(api.system.pods.root.iterdir())) == pods_before
    assert api.get("/api/v1/opdrachten", headers=staff).json()["items"] == []


def test_no_redirect_is_built_from_the_callers_host_header(api):
    staff = _key(api, UTRECHT, "staff")
    answer = api.get("/api/v1/opdrachten/", headers={**staff, "Host": "evil.example"},
                     follow_redirects=False)
    assert answer.status_code == 404
    assert "evil.example" not in answer.headers.get("location", "")
    assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("body", ["not json", '{"passphrase": '])
def test_a_typed_body_that_is_not_json_says_so_in_an_invalid_input_problem(api, body):
    answer = api.post("/api/v1/pods", content=body,
                      headers={"Content-Type": "application/json"})
    problem = _problem(answer, 400)
    assert problem["code"] == "invalid-input"
    assert problem["detail"] == "body: not valid JSON"


def test_a_consistency_proof_refusal_names_the_parameters_the_caller_sent(api):
    key = _key(api, UTRECHT, "staff")
    beyond = _problem(api.get("/api/v1/auditlog/consistentie?van=5&tot=3",
                              headers=key), 400)
    assert beyond["detail"] == "tot must be an integer from 1 to 0"


@pytest.mark.parametrize("name", ["Authorization", "Content-Type"])
def test_a_request_naming_a_header_twice_is_refused_whoever_it_names(api, name):
    """A proxy and this server could each take a different one of the two."""
    staff, other = _key(api, UTRECHT, "staff"), _key(api, "GM0363", "staff")
    headers = [("Authorization", staff["Authorization"])]
    if name == "Authorization":
        headers.append(("Authorization", other["Authorization"]))
    else:
        headers += [("Content-Type", "application/json"), ("Content-Type", "text/plain")]
    answer = api.get("/api/v1/opdrachten", headers=headers)
    problem = _problem(answer, 400)
    assert problem["code"] == "duplicate-header"
    assert name.lower() in problem["detail"]
    assert answer.headers["api-version"] == "1.0.0"


def test_a_key_of_the_wrong_role_is_told_which_role_the_route_needs(api):
    staff = _problem(api.get("/api/v1/auditlog", headers=_key(api, UTRECHT, "staff")),
                     403)
    dpo = _problem(api.get("/api/v1/opdrachten", headers=_key(api, UTRECHT, "dpo")),
                   403)

    assert staff["detail"] == ("not allowed to use this endpoint with a staff key "
                               "(it needs a dpo or platform-dpo key)")
    assert dpo["detail"] == ("not allowed to use this endpoint with a dpo key "
                             "(it needs a staff key)")


def test_a_401_says_how_to_authenticate_and_a_405_what_is_allowed(api):
    unauthenticated = [api.get("/api/v1/pod/toestemmingen"),
                       api.get("/api/v1/opdrachten"),
                       api.get("/api/v1/pod/werkcontext",
                               headers={"Authorization": "Bearer vgs_forged"})]
    wrong_method = api.post("/api/v1/sessies/huidige")

    for answer in unauthenticated:
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"].startswith("Bearer")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "DELETE"
    assert wrong_method.headers["content-type"] == "application/problem+json"


def test_a_domain_problem_title_is_words_not_a_class_name():
    from pod import InvalidPath
    from vg.problems import domain_problem

    body = json.loads(domain_problem(InvalidPath("/x")).body)

    assert body["title"] == "Invalid path" and body["code"] == "invalid-path"
