"""The access log over HTTP: a holder checks their own entries against the signed
checkpoint with nothing but the verifier key; DPOs filter, count, export, get flags
and proofs, each within their own organisation; refusals are logged decisions."""

from __future__ import annotations

import base64
import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import event

from audit import Verifier
from audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from audit.note import open_checkpoint, verify_proof
from tests.vg.test_api import (  # noqa: F401  (api is a fixture)
    GRONINGEN,
    NOW,
    UTRECHT,
    _assignment,
    _grant,
    _holder,
    _key,
    _skills,
    api,
)


def _viewed(api, orgs=(UTRECHT,), audience=None):
    """A holder whose skills were shown to staff of each of ``orgs``."""
    skills = _skills(api)
    _, holder = _holder(api, skills)
    _grant(api, holder, ["skills"], audience=audience or {"kind": "all_municipalities"})
    for org in orgs:
        staff = _key(api, org)
        response = api.get(
            f"/api/v1/opdrachten/{_assignment(api, staff, skills)}/kandidaten",
            headers=staff)
        assert response.json()["total"] >= 1
    return holder


def test_a_holder_verifies_their_entries_against_the_signed_checkpoint(api):
    holder = _viewed(api, (UTRECHT, GRONINGEN))
    vkey = api.get("/api/v1/auditlog/verificatiesleutel",
                   headers=_key(api, UTRECHT)).text.strip()

    view = api.get("/api/v1/pod/inzage", headers=holder).json()

    verifier = Verifier.parse(vkey)
    assert view["verifierKey"] == vkey
    checkpoint = open_checkpoint(view["checkpoint"], verifier)
    assert [e["organisation"] for e in view["entries"]] == [UTRECHT, GRONINGEN]
    for e in view["entries"]:
        assert e["requesterRole"] == "staff" and e["purpose"] == "matching"
        proof = [base64.b64decode(h) for h in e["proof"]]
        verify_inclusion(e["index"], checkpoint.size, leaf_hash(e["entry"].encode()),
                         proof, checkpoint.root)
        assert json.loads(e["entry"])["fields"] == ["skills"]


def test_a_dpo_gets_a_tlog_proof_that_verifies_offline(api):
    _viewed(api)
    dpo = _key(api, UTRECHT, "dpo")
    [entry] = api.get("/api/v1/auditlog", headers=dpo).json()
    vkey = api.get("/api/v1/auditlog/verificatiesleutel", headers=dpo).text.strip()

    proof = api.get(f"/api/v1/auditlog/bewijs/{entry['index']}", headers=dpo)

    assert proof.status_code == 200 and proof.text.startswith("c2sp.org/tlog-proof@v1")
    inzage = api.system.audit.record_at(entry["index"])
    assert verify_proof(proof.text, inzage.canonical_bytes(), Verifier.parse(vkey))


def test_a_municipal_dpo_gets_no_proof_for_another_organisation_s_entry(api):
    _viewed(api, (GRONINGEN,))
    [entry] = api.get("/api/v1/auditlog", headers=_key(api, GRONINGEN, "dpo")).json()
    response = api.get(f"/api/v1/auditlog/bewijs/{entry['index']}",
                       headers=_key(api, UTRECHT, "dpo"))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_checkpoints_over_time_are_linked_by_a_consistency_proof(api):
    staff = _key(api, UTRECHT)
    _viewed(api)
    first = api.get("/api/v1/auditlog/checkpoint", headers=staff).text
    _viewed(api)
    second = api.get("/api/v1/auditlog/checkpoint", headers=staff).text
    verifier = api.system.audit.verifier
    old, new = open_checkpoint(first, verifier), open_checkpoint(second, verifier)
    body = api.get(f"/api/v1/auditlog/consistentie?van={old.size}&tot={new.size}",
                   headers=staff).json()
    verify_consistency(old.size, new.size, old.root, new.root,
                       [base64.b64decode(h) for h in body["hashes"]])


def test_a_holder_links_two_views_of_their_entries_with_the_log_s_public_routes(api):
    """A holder keeps the checkpoint of an earlier access view; to see that the log
    only grew since, they fetch the verifier key, the current checkpoint and a
    consistency proof with their own session, as an organisation does with a key."""
    holder = _viewed(api)
    first = api.get("/api/v1/pod/inzage", headers=holder).json()
    _viewed(api)

    vkey = api.get("/api/v1/auditlog/verificatiesleutel", headers=holder)
    now = api.get("/api/v1/auditlog/checkpoint", headers=holder)
    assert vkey.status_code == 200 and now.status_code == 200, now.text
    verifier = Verifier.parse(vkey.text.strip())
    assert vkey.text.strip() == first["verifierKey"]
    old = open_checkpoint(first["checkpoint"], verifier)
    new = open_checkpoint(now.text, verifier)
    body = api.get(f"/api/v1/auditlog/consistentie?van={old.size}&tot={new.size}",
                   headers=holder)
    assert body.status_code == 200, body.text
    verify_consistency(old.size, new.size, old.root, new.root,
                       [base64.b64decode(h) for h in body.json()["hashes"]])


@pytest.mark.parametrize("token", ["vgs_not-a-session", "vgk_not-a-key", None])
def test_the_log_s_public_routes_still_need_a_key_or_a_live_session(api, token):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for path in ("checkpoint", "verificatiesleutel", "consistentie?van=1&tot=1"):
        answer = api.get(f"/api/v1/auditlog/{path}", headers=headers)
        assert answer.status_code == 401, (path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    other = api.get("/api/v1/auditlog", headers=_viewed(api))
    assert other.status_code == 401  # the log's rows stay the DPO's


def test_proof_routes_reuse_the_checkpoint_while_the_log_has_not_grown(api):
    holder = _viewed(api)
    dpo = _key(api, UTRECHT, "dpo")
    [entry] = api.get("/api/v1/auditlog", headers=dpo).json()  # itself logged
    first = api.get("/api/v1/pod/inzage", headers=holder).json()["checkpoint"]
    commits: list[object] = []
    event.listen(api.system.audit.engine, "commit", commits.append)

    views = [api.get("/api/v1/pod/inzage", headers=holder) for _ in range(3)]
    proofs = [api.get(f"/api/v1/auditlog/bewijs/{entry['index']}", headers=dpo)
              for _ in range(3)]

    assert [v.json()["checkpoint"] for v in views] == [first] * 3
    assert all(p.status_code == 200 and p.text.endswith(first) for p in proofs)
    assert commits == []  # no checkpoint signed or rewritten, no lock taken


def test_the_dpo_filters_by_requester_and_outcome_and_exports_csv(api):
    _viewed(api, (UTRECHT, UTRECHT))
    dpo = _key(api, UTRECHT, "platform-dpo")
    entries = api.get("/api/v1/auditlog", headers=dpo).json()
    first = entries[0]["requester"]

    mine = api.get("/api/v1/auditlog", params={"requester": first}, headers=dpo)
    refused = api.get("/api/v1/auditlog?outcome=refused", headers=dpo)
    exported = api.get("/api/v1/auditlog?format=csv", headers=dpo)

    assert [e["requester"] for e in mine.json()] == [first]
    assert refused.json() == []
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["index"] for r in rows] == [str(e["index"]) for e in entries]


def test_counts_per_day_and_purpose_stay_within_the_dpo_s_organisation(api):
    _viewed(api, (UTRECHT, GRONINGEN, GRONINGEN))
    own = api.get(f"/api/v1/auditlog/statistieken?organisation={UTRECHT}",
                  headers=_key(api, UTRECHT, "dpo")).json()
    everyone = api.get("/api/v1/auditlog/statistieken",
                       headers=_key(api, UTRECHT, "platform-dpo")).json()
    assert [c["count"] for c in own] == [1]
    assert [(c["day"], c["purpose"], c["count"]) for c in everyone] == [
        (NOW.date().isoformat(), "matching", 3)]


@pytest.mark.parametrize("path", ["/api/v1/auditlog", "/api/v1/auditlog/statistieken",
                                  "/api/v1/auditlog/signalen?since=2026-01-01T00:00:00Z"
                                  "&until=2026-02-01T00:00:00Z"])
def test_a_municipal_dpo_asking_for_another_organisation_is_refused(api, path):
    _viewed(api, (UTRECHT, GRONINGEN))
    dpo = _key(api, UTRECHT, "dpo")
    joiner = "&" if "?" in path else "?"

    other = api.get(f"{path}{joiner}organisation={GRONINGEN}", headers=dpo)
    own = api.get(f"{path}{joiner}organisation={UTRECHT}", headers=dpo)

    assert other.status_code == 403
    assert other.headers["content-type"] == "application/problem+json"
    assert own.status_code == 200


def test_flags_report_access_outside_office_hours(api):
    api.clock["now"] = NOW.replace(hour=23)  # midnight in Amsterdam
    _viewed(api)
    response = api.get("/api/v1/auditlog/signalen", headers=_key(api, UTRECHT, "dpo"),
                       params={"since": (NOW - timedelta(days=1)).isoformat(),
                               "until": (NOW + timedelta(days=1)).isoformat()})
    assert response.status_code == 200
    assert [f["kind"] for f in response.json()["flags"]] == ["office-hours"]


@pytest.mark.parametrize("at, says", [
    (NOW.replace(day=5, hour=13, minute=52),
     "request at 2026-12-05T14:52+01:00 (Saturday): at the weekend"),
    (NOW.replace(day=7, hour=5), "request at 2026-12-07T06:00+01:00 (Monday): "
                                 "before 07:00"),
    (NOW.replace(day=7, hour=18), "request at 2026-12-07T19:00+01:00 (Monday): "
                                  "at or after 19:00"),
])
def test_an_office_hours_flag_says_why_the_request_was_outside_them(api, at, says):
    api.clock["now"] = at
    _viewed(api)
    response = api.get("/api/v1/auditlog/signalen", headers=_key(api, UTRECHT, "dpo"),
                       params={"since": "2026-12-01", "until": "2026-12-08"})
    assert [f["detail"] for f in response.json()["flags"]] == [says]


def test_flags_need_a_period(api):
    response = api.get("/api/v1/auditlog/signalen", headers=_key(api, UTRECHT, "dpo"))
    assert response.status_code == 400


def test_a_refused_request_is_a_logged_decision_with_its_requester(api):
    skills = _skills(api)
    staff, dpo = _key(api, UTRECHT), _key(api, UTRECHT, "dpo")
    assignment = _assignment(api, staff, skills)
    response = api.get(f"/api/v1/opdrachten/{assignment}/kandidaten", headers=dpo)
    assert response.status_code == 403
    [refusal] = [r for r in _access_records(api) if r.result == "refused"]
    assert (refusal.organisation, refusal.role, refusal.target) == (
        UTRECHT, "dpo", f"assignment {assignment}")
    assert api.system.audit.verify().ok


def test_reading_the_log_is_itself_logged(api):
    _viewed(api)
    api.get("/api/v1/auditlog", headers=_key(api, UTRECHT, "dpo"))
    assert [r.action for r in _access_records(api)][-1] == "read-audit-log"


@pytest.mark.parametrize("path", [
    "/api/v1/auditlog/statistieken", "/api/v1/auditlog/bewijs/0",
    "/api/v1/auditlog/verificatie"])
def test_staff_may_not_use_the_dpo_routes(api, path):
    assert api.get(path, headers=_key(api, UTRECHT)).status_code == 403


@pytest.mark.parametrize("path", [
    "/api/v1/auditlog/checkpoint", "/api/v1/auditlog/verificatiesleutel",
    "/api/v1/auditlog/consistentie?van=1&tot=1"])
def test_the_public_audit_routes_still_need_a_caller(api, path):
    assert api.get(path).status_code == 401


def test_a_consistency_proof_beyond_the_log_is_a_400(api):
    response = api.get("/api/v1/auditlog/consistentie?van=1&tot=99",
                       headers=_key(api, UTRECHT))
    assert response.status_code == 400


def _access_records(api):
    log = api.system.audit
    return [r for i in range(log.head().size)
            if (r := log.record_at(i)) is not None and r.kind == "access"]


def test_the_holder_checks_their_whole_access_view_offline_with_the_cli(api, tmp_path):
    from typer.testing import CliRunner

    from vg.cli import app

    holder = _viewed(api, (UTRECHT, GRONINGEN))
    view = api.get("/api/v1/pod/inzage", headers=holder).json()
    vkey = api.system.audit.verifier.vkey()
    good, bad = tmp_path / "view.json", tmp_path / "changed.json"
    good.write_text(json.dumps(view))
    view["entries"][1]["entry"] = view["entries"][1]["entry"].replace(
        "matching", "contact")
    bad.write_text(json.dumps(view))
    runner = CliRunner()

    ok = runner.invoke(app, ["audit", "check-inzage", str(good), "--vkey", vkey])
    changed = runner.invoke(app, ["audit", "check-inzage", str(bad), "--vkey", vkey])

    assert ok.exit_code == 0 and json.loads(ok.stdout)["entries"] == 2
    assert changed.exit_code == 2
    assert f"entry {view['entries'][1]['index']} is not in" in changed.output


@pytest.mark.parametrize("shown, value", [
    ("organisation", "GM0599"), ("purpose", "contact"),
    ("fields", ["email", "telephone"]), ("reason", "something else"),
    ("outcome", "refused"), ("occurredAt", "2020-01-01T00:00:00Z"),
])
def test_the_holder_check_refuses_a_view_that_shows_other_than_the_log(
        api, tmp_path, shown, value):
    from typer.testing import CliRunner

    from vg.cli import app

    holder = _viewed(api, (UTRECHT, GRONINGEN))
    view = api.get("/api/v1/pod/inzage", headers=holder).json()
    view["entries"][0][shown] = value
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(view))

    answer = CliRunner().invoke(app, ["audit", "check-inzage", str(changed),
                                      "--vkey", api.system.audit.verifier.vkey()])

    assert answer.exit_code == 2
    assert f"entry {view['entries'][0]['index']}: {shown} differs" in answer.output


def test_one_whole_log_verification_runs_at_a_time(api, monkeypatch):
    import threading

    from vg import oversight

    system = api.app.state.system
    started, release = threading.Event(), threading.Event()
    verify = system.audit.verify

    def slow_verify(**options):
        started.set()
        release.wait(10)
        return verify(**options)

    monkeypatch.setattr(system.audit, "verify", slow_verify)
    running = threading.Thread(target=oversight.verify_whole_log, args=(system,))
    running.start()
    assert started.wait(10)
    dpo = _key(api, UTRECHT, "dpo")

    busy = api.get("/api/v1/auditlog/verificatie", headers=dpo)
    release.set()
    running.join(10)
    done = api.get("/api/v1/auditlog/verificatie", headers=dpo)

    assert busy.status_code == 429
    assert busy.headers["content-type"] == "application/problem+json"
    assert busy.headers["retry-after"] == "60"
    assert busy.json()["code"] == "verification-running"
    assert done.status_code == 200 and done.json()["ok"] is True


@pytest.mark.parametrize("route", ["/api/v1/auditlog", "/api/v1/auditlog/statistieken",
                                   "/api/v1/auditlog/signalen"])
def test_a_reversed_period_is_refused_on_every_audit_view(api, route):
    answer = api.get(route, headers=_key(api, UTRECHT, "dpo"), params={
        "since": "2026-12-10T00:00:00Z", "until": "2026-12-01T00:00:00Z"})

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid-audit-query"
    assert answer.json()["detail"].startswith("until must be after since")


@pytest.mark.parametrize("purpose", ["bogus", "Matching", " matching"])
def test_a_purpose_that_is_none_of_the_known_ones_is_refused_not_an_empty_log(
        api, purpose):
    _viewed(api)

    answer = api.get("/api/v1/auditlog", headers=_key(api, UTRECHT, "dpo"),
                     params={"purpose": purpose})

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid-audit-query"
    assert "matching" in answer.json()["detail"]


def test_the_published_purpose_filter_names_the_known_purposes(api):
    from schemas import PURPOSES

    spec = api.get("/api/v1/openapi.json").json()
    [purpose] = [p for p in spec["paths"]["/api/v1/auditlog"]["get"]["parameters"]
                 if p["name"] == "purpose"]

    assert all(f"'{key}'" in str(purpose["schema"]) for key in PURPOSES)


@pytest.mark.parametrize("route, query", [
    ("/api/v1/auditlog", "doel=bogus"),
    ("/api/v1/auditlog", "betrokkene=ffff"),
    ("/api/v1/auditlog", "van=2030-01-01"),
    ("/api/v1/auditlog", "purpose=matching&Purpose=bogus"),
    ("/api/v1/auditlog/statistieken", "purpose=matching"),
    ("/api/v1/auditlog/signalen",
     "since=2026-12-01T00:00:00Z&until=2026-12-05T00:00:00Z&vrager=x"),
])
def test_a_filter_the_route_does_not_know_is_refused_not_ignored(api, route, query):
    _viewed(api)
    dpo = _key(api, UTRECHT, "dpo")
    before = api.get("/api/v1/auditlog?limit=1000", headers=dpo).json()

    response = api.get(f"{route}?{query}", headers=dpo)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "unknown query parameter" in response.json()["detail"]
    assert api.get("/api/v1/auditlog?limit=1000", headers=dpo).json() == before


def test_every_json_api_route_refuses_an_unknown_query_parameter(api):
    holder = _viewed(api)

    assert api.get("/api/v1/pod/toestemmingen?zzz=1",
                   headers=holder).status_code == 400
    assert api.get("/api/v1/pod/toestemmingen", headers=holder).status_code == 200
