"""Consent over HTTP: audiences for employees and freelancers, employer policies
that refuse and suspend, consent records and receipts, renewal, history, a start in
the future, and the refusals that name what they refuse."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from consent import verify_receipt
from schemas import WORKCONTEXT_CONTEXT_URL
from schemas.consent_record import ConsentRecordValidator
from tests.factories import disclosure_rows
from tests.vg.test_api import NOW, UTRECHT, _assignment, _grant, _holder, _key, _skills
from tests.vg.test_api import api  # noqa: F401  (a fixture used by name)

AMSTERDAM = "GM0363"
POOL = {"kind": "cross_sector"}
NO_POOL = {"allowedKinds": ["organisation", "organisations", "employer",
                            "employer_and_neighbours", "province", "corop",
                            "safety_region", "all_municipalities", "sector"]}
ALL = {"allowedKinds": [*NO_POOL["allowedKinds"], "cross_sector"]}


def _freelancer(api, skills):
    created = api.post("/api/v1/pods", json={"passphrase": "een lange wachtzin 42"})
    did, token = created.json()["did"], created.json()["session"]
    headers = {"Authorization": f"Bearer {token}",
               "Content-Type": "application/ld+json"}
    document = {"@context": WORKCONTEXT_CONTEXT_URL, "id": did, "type": "Person",
                "name": "Kees Zzp", "skills": skills}
    saved = api.put("/api/v1/pod/werkcontext", content=json.dumps(document),
                    headers=headers)
    assert saved.status_code == 200, saved.text
    return did, headers


def _employee(api, skills):
    """A holder naming Utrecht as employer, which attests the employment: its
    policy governs only its attested employees."""
    did, headers = _holder(api, skills)
    attested = api.post("/api/v1/medewerkers", json={"did": did},
                        headers=_key(api, UTRECHT))
    assert attested.status_code == 201, attested.text
    return did, headers


def _request_grant(api, headers, audience, fields=("skills",), purposes=("matching",)):
    return api.post("/api/v1/pod/toestemmingen", headers=headers, json={
        "audience": audience, "purposes": list(purposes), "fields": list(fields),
        "validUntil": (NOW + timedelta(days=30)).isoformat()})


def _seen(api, org_headers, job) -> int:
    response = api.get(f"/api/v1/opdrachten/{job}/kandidaten", headers=org_headers)
    assert response.status_code == 200, response.text
    return response.json()["total"]


def test_an_employer_policy_refuses_a_grant_with_its_reason_and_keeps_nothing(api):
    _, holder = _employee(api, _skills(api))
    assert api.put("/api/v1/organisatie/toestemmingsbeleid", json=NO_POOL,
                   headers=_key(api, UTRECHT)).status_code == 200

    refused = _request_grant(api, holder, POOL)

    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "audience-refused-by-employer"
    assert "cross_sector" in refused.json()["detail"]
    assert api.get("/api/v1/pod/toestemmingen", headers=holder).json() == []


def test_a_stricter_policy_suspends_grants_and_the_holder_is_told(api):
    skills = _skills(api)
    _, holder = _employee(api, skills)
    pooled = _grant(api, holder, ["skills"], audience=POOL)
    _grant(api, holder, ["skills", "level"])
    amsterdam = _key(api, AMSTERDAM)
    job = _assignment(api, amsterdam, skills)
    assert _seen(api, amsterdam, job) == 1

    changed = api.put("/api/v1/organisatie/toestemmingsbeleid", json=NO_POOL,
                      headers=_key(api, UTRECHT))

    assert changed.json() == {"organisation": UTRECHT, **NO_POOL,
                              "withinProvince": False}
    assert _seen(api, amsterdam, job) == 0
    notices = api.get("/api/v1/pod/toestemmingen/meldingen", headers=holder).json()
    assert [(n["grant"], n["organisation"]) for n in notices] == [(pooled, UTRECHT)]
    assert "cross_sector" in notices[0]["reason"]
    history = api.get("/api/v1/pod/toestemmingen/historie", headers=holder).json()
    events = {h["grant"]["id"]: [e["status"] for e in h["events"]] for h in history}
    assert events[pooled] == ["given", "invalidated"]
    utrecht = _key(api, UTRECHT)
    assert _seen(api, utrecht, _assignment(api, utrecht, skills)) == 1
    listed = {g["id"]: g for g in
              api.get("/api/v1/pod/toestemmingen", headers=holder).json()}
    assert listed[pooled]["suspended"] is True and listed[pooled]["live"] is False
    assert [g["suspended"] for i, g in listed.items() if i != pooled] == [False]


def test_a_lifted_suspension_shows_in_the_history_notices_and_records(api):
    skills = _skills(api)
    _, holder = _employee(api, skills)
    pooled = _grant(api, holder, ["skills"], audience=POOL)
    utrecht = _key(api, UTRECHT)
    api.put("/api/v1/organisatie/toestemmingsbeleid", json=NO_POOL, headers=utrecht)

    api.put("/api/v1/organisatie/toestemmingsbeleid", json=ALL, headers=utrecht)

    history = api.get("/api/v1/pod/toestemmingen/historie", headers=holder).json()
    [item] = [h for h in history if h["grant"]["id"] == pooled]
    assert [e["status"] for e in item["events"]] == ["given", "invalidated", "lifted"]
    suspended, lifted = item["events"][1:]
    assert lifted["by"] == suspended["by"]
    [notice] = api.get("/api/v1/pod/toestemmingen/meldingen", headers=holder).json()
    assert notice["lifted"] == lifted["at"]
    records = api.get("/api/v1/pod/toestemmingen/records", headers=holder).json()
    mine = [r for r in records if r["grant"] == pooled]
    assert [r["consentStatus"] for r in mine] == [
        "dpv:ConsentGiven", "dpv:ConsentInvalidated", "dpv:ConsentGiven"]
    assert mine[-1]["indicatedAt"] == lifted["at"]


# No pool and no province: refuses a grant to another province, which the
# employer is not in the audience of (it is shown what its policy suspended of
# a grant whose audience it is in, tests/vg/api/test_policy_probe.py).
NARROW = {"allowedKinds": [k for k in NO_POOL["allowedKinds"] if k != "province"]}
NOORD_HOLLAND = {"kind": "province", "province": "PV27"}


def test_the_employer_learns_nothing_of_grants_to_others_refused_or_withdrawn(api):
    skills = _skills(api)
    employer, dpo = _key(api, UTRECHT), _key(api, UTRECHT, "dpo")
    api.put("/api/v1/organisatie/toestemmingsbeleid", json=NARROW, headers=employer)
    api.put("/api/v1/organisatie/rechtsgronden", json={"bases": {
        "matching": "public_task"}}, headers=employer)
    job = _assignment(api, employer, skills)

    def employer_view() -> list:
        writes = [api.put("/api/v1/organisatie/toestemmingsbeleid", json=policy,
                          headers=employer).json() for policy in (ALL, NARROW)]
        reads = [api.get(path, headers=headers).json() for path, headers in (
            ("/api/v1/organisatie/toestemmingsbeleid", employer),
            ("/api/v1/organisatie/rechtsgronden", employer),
            ("/api/v1/opdrachten", employer),
            (f"/api/v1/opdrachten/{job}/kandidaten", employer),
            ("/api/v1/auditlog", dpo),
        )]
        return writes + reads

    _, holder = _employee(api, skills)
    before = employer_view()
    elsewhere = _grant(api, holder, ["skills"], audience={
        "kind": "organisation", "organisations": [AMSTERDAM]})
    assert _request_grant(api, holder, POOL).status_code == 403  # refused
    api.delete(f"/api/v1/pod/toestemmingen/{elsewhere[9:]}", headers=holder)
    api.put("/api/v1/organisatie/toestemmingsbeleid", json=ALL, headers=employer)
    _grant(api, holder, ["skills"], audience=NOORD_HOLLAND)  # the next view suspends
    _seen(api, _key(api, AMSTERDAM), _assignment(api, _key(api, AMSTERDAM), skills))

    after = employer_view()

    assert len(api.get("/api/v1/pod/toestemmingen/meldingen", headers=holder).json()) == 1
    assert after == before


def test_a_freelancer_can_grant_every_audience_that_needs_no_employer(api):
    _, holder = _freelancer(api, _skills(api))

    assert _request_grant(api, holder, POOL).status_code == 201
    assert _request_grant(api, holder, {"kind": "safety_region",
                                        "region": "VR09"}).status_code == 201
    refused = _request_grant(api, holder, {"kind": "employer", "employer": UTRECHT})
    assert refused.status_code == 400
    assert refused.json()["code"] == "audience-needs-employer"


def test_an_employer_audience_naming_another_employer_is_refused(api):
    _, holder = _holder(api, _skills(api))

    refused = _request_grant(api, holder, {"kind": "employer", "employer": AMSTERDAM})

    assert refused.status_code == 400 and UTRECHT in refused.json()["detail"]


@pytest.mark.parametrize("change, named", [
    ({"fields": ["skills", "bsn"]}, "bsn"),
    ({"purposes": ["marketing"]}, "marketing"),
    ({"audience": {"kind": "everyone"}}, "everyone"),
    ({"audience": {"kind": "corop", "region": "CR99"}}, "CR99"),
    ({"audience": {"kind": "sector", "sector": "housing_corporation"}},
     "housing_corporation"),
    ({"fields": ["salary_scale"], "purposes": ["contact"]}, "salary_scale"),
    ({"fields": ["email"], "purposes": ["matching"]}, "email"),
])
def test_a_grant_naming_something_unknown_or_not_allowed_is_a_400_naming_it(
        api, change, named):
    _, holder = _holder(api, _skills(api))
    body = {"audience": {"kind": "all_municipalities"}, "purposes": ["matching"],
            "fields": ["skills"],
            "validUntil": (NOW + timedelta(days=30)).isoformat()} | change

    refused = api.post("/api/v1/pod/toestemmingen", json=body, headers=holder)

    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"
    assert named in refused.json()["detail"]
    assert api.get("/api/v1/pod/toestemmingen", headers=holder).json() == []


@pytest.mark.parametrize("moments", [
    {"validUntil": "0001-01-01T00:00:00+01:00"},
    {"validUntil": "9999-12-31T23:59:59-01:00"},
    {"validFrom": "0001-01-01T00:00:00+01:00"}])
def test_a_grant_time_beyond_the_calendar_in_utc_is_a_400_not_an_error(api, moments):
    _, holder = _holder(api, _skills(api))
    body = {"audience": {"kind": "all_municipalities"}, "purposes": ["matching"],
            "fields": ["skills"],
            "validUntil": (NOW + timedelta(days=30)).isoformat()} | moments

    refused = api.post("/api/v1/pod/toestemmingen", json=body, headers=holder)

    assert refused.status_code == 400, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert api.get("/api/v1/pod/toestemmingen", headers=holder).json() == []


def test_every_grant_and_withdrawal_is_a_valid_record_in_a_signed_receipt(api):
    did, holder = _holder(api, _skills(api))
    api.put("/api/v1/organisatie/rechtsgronden", headers=_key(api, UTRECHT),
            json={"bases": {"matching": "employee_request"}})
    kept = _grant(api, holder, ["skills"])
    gone = _grant(api, holder, ["level"], audience=POOL)
    api.delete(f"/api/v1/pod/toestemmingen/{gone[9:]}", headers=holder)

    records = api.get("/api/v1/pod/toestemmingen/records", headers=holder).json()
    receipt = api.get("/api/v1/pod/toestemmingen/ontvangstbewijs", headers=holder)
    issuer = api.get("/api/v1/ontvangstbewijs/sleutel").json()["issuer"]

    validator = ConsentRecordValidator()
    for record in records:
        validator.validate(record)
        assert record["dataSubject"] == did
    assert sorted((r["grant"], r["consentStatus"]) for r in records) == sorted([
        (kept, "dpv:ConsentGiven"), (gone, "dpv:ConsentGiven"),
        (gone, "dpv:ConsentWithdrawn")])
    bases = {r["grant"]: r["process"]["declaredBasis"] for r in records}
    assert [b["legalBasis"] for b in bases[kept]] == ["eu-gdpr:A6-1-b"]
    assert receipt.headers["content-type"].startswith("application/ld+json")
    validator.validate(receipt.json())
    verify_receipt(receipt.json(), issuer)
    one = api.get(f"/api/v1/pod/toestemmingen/{gone[9:]}/ontvangstbewijs",
                  headers=holder).json()
    assert {r["grant"] for r in one["recordOfActivity"]} == {gone}


def test_renewal_replaces_a_grant_and_the_history_keeps_both(api):
    skills = _skills(api)
    _, holder = _holder(api, skills)
    old = _grant(api, holder, ["skills"], until=NOW + timedelta(days=2))
    utrecht = _key(api, UTRECHT)
    job = _assignment(api, utrecht, skills)

    renewed = api.post(f"/api/v1/pod/toestemmingen/{old[9:]}/verlenging",
                       headers=holder,
                       json={"validUntil": (NOW + timedelta(days=60)).isoformat()})
    history = api.get("/api/v1/pod/toestemmingen/historie", headers=holder).json()
    api.clock["now"] = NOW + timedelta(days=10)

    assert renewed.status_code == 201 and renewed.json()["renews"] == old
    assert [[e["status"] for e in h["events"]] for h in history] == [
        ["given", "renewed"], ["renewed"]]
    assert _seen(api, utrecht, job) == 1  # the old grant alone has ended by now


def test_a_grant_starting_tomorrow_is_shown_only_from_tomorrow(api):
    skills = _skills(api)
    _, holder = _holder(api, skills)
    response = api.post("/api/v1/pod/toestemmingen", headers=holder, json={
        "audience": {"kind": "employer", "employer": UTRECHT},
        "purposes": ["matching"], "fields": ["skills"],
        "validFrom": (NOW + timedelta(days=1)).isoformat(),
        "validUntil": (NOW + timedelta(days=30)).isoformat()})
    assert response.status_code == 201, response.text
    utrecht = _key(api, UTRECHT)
    job = _assignment(api, utrecht, skills)

    assert _seen(api, utrecht, job) == 0
    api.clock["now"] = NOW + timedelta(days=1, seconds=1)
    assert _seen(api, utrecht, job) == 1


def test_an_organisation_never_sees_the_employer_a_disclosure_names_for_policies(api):
    skills = _skills(api)
    _, holder = _holder(api, skills)
    _grant(api, holder, ["skills"], audience={"kind": "all_municipalities"})
    amsterdam = _key(api, AMSTERDAM)

    response = api.get(f"/api/v1/opdrachten/{_assignment(api, amsterdam, skills)}"
                       "/kandidaten", headers=amsterdam)

    assert response.json()["total"] == 1
    tooi = api.system.reference.organisation(UTRECHT).tooi_uri
    for withheld in (tooi, UTRECHT, "Sanne", "sanne@voorbeeld.nl", "salaryScale"):
        assert withheld not in response.text


def test_a_new_workcontext_is_republished_under_every_live_and_coming_grant(api):
    skills = _skills(api)
    did, holder = _holder(api, skills)
    live = _grant(api, holder, ["hours_per_week"])
    ended = _grant(api, holder, ["level"], until=NOW + timedelta(minutes=20))
    gone = _grant(api, holder, ["skills"], audience=POOL)
    api.delete(f"/api/v1/pod/toestemmingen/{gone[9:]}", headers=holder)
    coming = api.post("/api/v1/pod/toestemmingen", headers=holder, json={
        "audience": {"kind": "employer", "employer": UTRECHT},
        "purposes": ["matching"], "fields": ["skills", "hours_per_week"],
        "validFrom": (NOW + timedelta(hours=1)).isoformat(),
        "validUntil": (NOW + timedelta(days=3)).isoformat()}).json()["id"]
    api.clock["now"] = NOW + timedelta(minutes=25)
    document = api.get("/api/v1/pod/werkcontext", headers=holder).json()
    document["availability"]["hoursPerWeek"] = 24

    saved = api.put("/api/v1/pod/werkcontext", content=json.dumps(document),
                    headers=holder).json()

    assert saved["published"] == 2
    rows = {row.grant_id: json.loads(row.projection)
            for row in disclosure_rows(api.system.registry.engine)}
    assert {rows[g]["availability"]["hoursPerWeek"] for g in (live, coming)} == {24}
    assert gone not in rows and "availability" not in rows[ended]
    utrecht = _key(api, UTRECHT)
    _seen(api, utrecht, _assignment(api, utrecht, skills))  # a read purges
    assert {row.grant_id for row in disclosure_rows(api.system.registry.engine)} == {
        live, coming}


@pytest.mark.parametrize("body", [
    {"bases": {"marketing": "public_task"}},
    {"bases": {"matching": "consent"}},
    {"bases": {"matching": "public_task"}, "extra": 1},
])
def test_a_declared_basis_outside_art_6_1_b_or_e_or_for_no_purpose_is_a_400(api, body):
    employer = _key(api, UTRECHT)

    refused = api.put("/api/v1/organisatie/rechtsgronden", json=body, headers=employer)

    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"
    assert api.get("/api/v1/organisatie/rechtsgronden",
                   headers=employer).json() == {"bases": {}}


def test_policies_and_bases_are_set_by_the_organisations_own_staff_only(api):
    assert api.put("/api/v1/organisatie/toestemmingsbeleid", json=NO_POOL,
                   headers=_key(api, UTRECHT, "dpo")).status_code == 403
    assert api.put("/api/v1/organisatie/toestemmingsbeleid",
                   json=NO_POOL).status_code == 401
    assert api.get("/api/v1/pod/toestemmingen/meldingen").status_code == 401


def _renew(api, headers, grant_id: str, days: int):
    return api.post(f"/api/v1/pod/toestemmingen/{grant_id[9:]}/verlenging",
                    headers=headers,
                    json={"validUntil": (NOW + timedelta(days=days)).isoformat()})


def test_withdrawing_a_renewed_grant_withdraws_every_renewal_after_it(api):
    skills = _skills(api)
    _, holder = _holder(api, skills)
    first = _grant(api, holder, ["skills"], until=NOW + timedelta(days=10))
    second = _renew(api, holder, first, 40).json()["id"]
    third = _renew(api, holder, second, 80).json()["id"]
    utrecht = _key(api, UTRECHT)
    job = _assignment(api, utrecht, skills)
    assert _seen(api, utrecht, job) == 1

    answer = api.delete(f"/api/v1/pod/toestemmingen/{first[9:]}", headers=holder)

    assert answer.status_code == 200, answer.text
    assert answer.json()["withdrawnWith"] == [third]
    assert answer.json()["renewedBy"] == second
    listed = api.get("/api/v1/pod/toestemmingen", headers=holder).json()
    assert [g["live"] for g in listed] == [False, False, False]
    assert _seen(api, utrecht, job) == 0
    assert disclosure_rows(api.system.registry.engine) == []


def test_the_history_says_a_renewed_grant_was_renewed_and_by_which(api):
    _, holder = _holder(api, _skills(api))
    old = _grant(api, holder, ["skills"], until=NOW + timedelta(days=10))
    new = _renew(api, holder, old, 40).json()["id"]
    api.delete(f"/api/v1/pod/toestemmingen/{new[9:]}", headers=holder)

    history = api.get("/api/v1/pod/toestemmingen/historie", headers=holder).json()
    records = api.get("/api/v1/pod/toestemmingen/records", headers=holder).json()

    events = {h["grant"]["id"]: h["events"] for h in history}
    assert [(e["status"], e.get("renewedBy")) for e in events[old]] == [
        ("given", None), ("renewed", new)]
    assert [e["status"] for e in events[new]] == ["renewed", "withdrawn"]
    ended = [r for r in records if r["grant"] == old and "renewedBy" in r]
    assert [(r["consentStatus"], r["renewedBy"]) for r in ended] == [
        ("dpv:RenewedConsentGiven", new)]
    validator = ConsentRecordValidator()
    for record in records:
        validator.validate(record)


def test_renewing_a_renewed_grant_again_names_its_renewal(api):
    _, holder = _holder(api, _skills(api))
    old = _grant(api, holder, ["skills"], until=NOW + timedelta(days=10))
    new = _renew(api, holder, old, 40).json()["id"]

    again = _renew(api, holder, old, 90)

    assert again.status_code == 409
    assert again.json()["code"] == "grant-renewed"
    assert again.json()["renewedBy"] == new and new in again.json()["detail"]


def test_a_renewal_answers_the_grant_as_every_consent_route_does(api):
    skills = _skills(api)
    _, holder = _holder(api, skills)
    old = _grant(api, holder, ["skills"], until=NOW + timedelta(days=2))

    renewed = _renew(api, holder, old, 60)

    body = renewed.json()
    assert renewed.status_code == 201
    assert body["renews"] == old and body["live"] is True
    assert body["publicationPending"] is False and body["withdrawn"] is None
    assert "proof" not in body and "holder" not in body
    listed = api.get("/api/v1/pod/toestemmingen", headers=holder).json()
    assert [g for g in listed if g["id"] == body["id"]] == [body]
    schema = api.get("/api/v1/openapi.json").json()["paths"][
        "/api/v1/pod/toestemmingen/{grant_ref}/verlenging"]["post"]["responses"]["201"]
    assert "GrantOut" in json.dumps(schema)
