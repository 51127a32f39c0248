"""The web pages without a browser: cookies, CSRF, the content security policy,
sessions, authorisation, and no personal data in addresses or logs."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from registry import AssignmentSpec
from registry.tables import WebSession
from tests.factories import NOW, UTRECHT
from vg.app import create_app
from vg.holder_identity import subject_of
from vg.settings import Settings
from vg.web import cookies
from vg.web.i18n import catalogue

WEB = Path(__file__).resolve().parents[3] / "vg" / "web"
PASSPHRASE = "een lange wachtzin voor de test"


@pytest.fixture()
def app(tmp_path):
    return create_app(Settings(data_dir=tmp_path, kdf_level="interactive"),
                      clock=lambda: NOW)


def browser(app) -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def csrf(response) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]{64})"', response.text).group(1)


def signed_in_holder(app) -> tuple[TestClient, str]:
    client = browser(app)
    token = csrf(client.get("/inloggen"))
    created = client.post("/pod-aanmaken", data={
        "csrf": token, "wachtzin": PASSPHRASE, "herhaling": PASSPHRASE})
    assert created.status_code == 303 and created.headers["location"] == "/mijn/welkom"
    skills = sorted(app.state.system.reference.skills)[:3]
    saved = client.post("/mijn/werkcontext", data={
        "csrf": token, "actie": "opslaan", "naam": "Sanne de Boer",
        "email": "sanne@voorbeeld.nl", "werkgever": UTRECHT, "vaardigheid": skills})
    assert saved.status_code == 303, saved.text
    return client, token


def signed_in_organisation(app, role: str = "staff") -> TestClient:
    key = app.state.system.registry.access.issue_key(UTRECHT, role, "test", NOW)
    client = browser(app)
    signed = client.post("/organisatie/inloggen", data={
        "csrf": csrf(client.get("/organisatie/inloggen")), "sleutel": key})
    assert signed.status_code == 303
    client.key = key
    return client


def grant_count(app, client) -> int:
    return client.get("/mijn/toestemmingen").text.count(">Intrekken<")


def test_every_cookie_is_host_only_secure_http_only_and_same_site_strict(app):
    client = browser(app)
    token = csrf(client.get("/inloggen"))
    created = client.post("/pod-aanmaken", data={
        "csrf": token, "wachtzin": PASSPHRASE, "herhaling": PASSPHRASE})
    set_cookies = created.headers.get_list("set-cookie") + client.get(
        "/inloggen").headers.get_list("set-cookie")
    assert any(c.startswith(cookies.SESSION + "=vgs_") for c in set_cookies)
    for header in set_cookies:
        name = header.split("=", 1)[0]
        assert name.startswith("__Host-"), header
        flags = {part.strip().lower() for part in header.split(";")[1:]}
        assert {"secure", "httponly", "samesite=strict", "path=/"} <= flags, header
        assert not any(flag.startswith("domain") for flag in flags)


def test_a_form_without_a_valid_csrf_token_is_refused_and_changes_nothing(app):
    client, token = signed_in_holder(app)
    body = {"publiek": "employer", "doel": "matching", "veld": "skills",
            "tot": "2027-06-30"}
    altered = token[:-1] + ("1" if token[-1] == "0" else "0")
    for forged in ({}, {"csrf": "0" * 64}, {"csrf": altered}):
        refused = client.post("/mijn/toestemmingen", data={**body, **forged})
        assert refused.status_code == 403
    assert grant_count(app, client) == 0

    other, _ = signed_in_holder(app)  # another browser's token is no good here
    stolen = csrf(other.get("/mijn/toestemmingen"))
    assert client.post("/mijn/toestemmingen",
                       data={**body, "csrf": stolen}).status_code == 403
    accepted = client.post("/mijn/toestemmingen", data={**body, "csrf": token})
    assert accepted.status_code == 303
    assert grant_count(app, client) == 1


def test_pages_forbid_inline_scripts_and_the_api_keeps_its_own_policy(app):
    client, _ = signed_in_holder(app)
    for path in ("/", "/inloggen", "/mijn", "/mijn/toestemmingen", "/mijn/inzage"):
        policy = client.get(path).headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe" not in policy
        assert "form-action 'self'" in policy and "frame-ancestors 'none'" in policy
    api = client.get("/api/v1/ontvangstbewijs/sleutel")
    assert api.headers["content-security-policy"] == (
        "default-src 'none'; frame-ancestors 'none'")


def test_templates_and_scripts_hold_no_inline_code_or_style():
    for template in (WEB / "templates").glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"\sstyle=|<style|\son[a-z]+=", text), template.name
    for script in (WEB / "static" / "js").glob("*.js"):
        text = script.read_text(encoding="utf-8")
        assert "eval(" not in text and "innerHTML" not in text, script.name


def test_a_revoked_key_or_a_logout_ends_the_organisations_session(app):
    access = app.state.system.registry.access
    staff = signed_in_organisation(app)
    assert staff.get("/organisatie").status_code == 200
    with app.state.system.registry.engine.connect() as conn:
        stored = conn.execute(select(WebSession.__table__)).all()
    token = staff.cookies[cookies.SESSION]
    assert [row.token_hash for row in stored] != [token]  # only the hash is kept

    key_id = int(access.authenticate(staff.key).actor.removeprefix("apikey:"))
    access.revoke(key_id, NOW)
    assert staff.get("/organisatie").headers["location"] == "/organisatie/inloggen"

    other = signed_in_organisation(app)
    out = other.post("/uitloggen", data={"csrf": csrf(other.get("/organisatie"))})
    assert out.status_code == 303
    other.cookies.set(cookies.SESSION, token)  # a copy kept from before is dead too
    assert other.get("/organisatie").status_code == 303


def test_an_organisation_session_expires_with_the_holder_session_lifetime(app):
    access = app.state.system.registry.access
    key = access.issue_key(UTRECHT, "staff", "test", NOW)
    token = access.open_session(key, NOW, timedelta(minutes=30))
    assert access.session(token, NOW + timedelta(minutes=29)).organisation == UTRECHT
    with pytest.raises(Exception) as ended:
        access.session(token, NOW + timedelta(minutes=30))
    assert type(ended.value).__name__ == "NotAuthenticated"


def test_each_role_reaches_only_its_own_pages(app):
    staff = signed_in_organisation(app, "staff")
    dpo = signed_in_organisation(app, "dpo")
    holder, _ = signed_in_holder(app)
    assert staff.get("/fg").headers["location"] == "/organisatie"
    assert dpo.get("/organisatie").headers["location"] == "/fg"
    assert dpo.get("/organisatie/opdrachten/1").status_code in (403, 404)
    assert holder.get("/organisatie").headers["location"] == "/organisatie/inloggen"
    assert staff.get("/mijn").headers["location"] == "/inloggen"
    assert browser(app).get("/fg/verificatie").status_code == 303


def test_no_personal_data_in_addresses_or_logs(app, caplog):
    caplog.set_level(logging.DEBUG)
    holder, token = signed_in_holder(app)
    holder.post("/mijn/toestemmingen", data={
        "csrf": token, "publiek": "employer_and_neighbours", "doel": "matching",
        "veld": ["name", "employer", "skills"], "tot": "2027-06-30"})
    staff = signed_in_organisation(app)
    new = staff.get("/organisatie/opdrachten/nieuw")
    skills = sorted(app.state.system.reference.skills)[:1]
    created = staff.post("/organisatie/opdrachten/nieuw", data={
        "csrf": csrf(new), "actie": "opslaan", "titel": "Omgevingswet",
        "vereist": skills, "plaats": UTRECHT, "kring": "neighbours"})
    card = staff.get(created.headers["location"])
    assert "Sanne de Boer" in card.text

    system = app.state.system
    did = re.search(r"(did:key:z[1-9A-HJ-NP-Za-km-z]+)",
                    holder.get("/mijn/welkom").text).group(1)
    pod = system.pods.open_with_key(*system.sessions.open(
        holder.cookies[cookies.SESSION][4:], NOW))
    private = [did, subject_of(system, pod), "Sanne", "sanne@voorbeeld.nl", PASSPHRASE]
    pod.lock()
    pages = [holder.get(p).text for p in ("/mijn", "/mijn/toestemmingen",
                                          "/mijn/inzage", "/mijn/opdrachten")]
    for text in pages + [card.text]:
        for address in re.findall(r'(?:href|action|src)="([^"]*)"', text):
            assert not any(value in address for value in private), address
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not any(value in logged for value in private)


def test_both_catalogues_hold_the_same_keys_and_every_key_the_templates_use():
    nl, en = catalogue("nl"), catalogue("en")
    assert set(nl) == set(en)
    used = set()
    for template in (WEB / "templates").glob("*.html"):
        used |= set(re.findall(r"\bt\('([a-z_.-]+)'[,)]", template.read_text()))
    assert used <= set(nl), used - set(nl)


def test_the_english_pages_are_in_english(app):
    client = browser(app)
    token = csrf(client.get("/inloggen"))
    switched = client.post("/taal", data={"csrf": token, "taal": "en",
                                          "terug": "/inloggen"})
    assert switched.headers["location"] == "/inloggen"
    page = client.get("/inloggen").text
    assert '<html lang="en"' in page and "My pod" in page
    away = client.post("/taal", data={"csrf": token, "taal": "nl",
                                      "terug": "//elders.example/"})
    assert away.headers["location"] == "/"


def test_a_wrong_passphrase_or_unknown_pod_gets_one_answer(app):
    client, _ = signed_in_holder(app)
    fresh = browser(app)
    token = csrf(fresh.get("/inloggen"))
    pod_id = re.search(r'class="utrecht-code vg-id">([0-9a-f]{32})<',
                       client.get("/mijn").text).group(1)
    wrong = fresh.post("/inloggen", data={"csrf": token, "pod": pod_id,
                                          "wachtzin": "niet de goede wachtzin"})
    unknown = fresh.post("/inloggen", data={"csrf": token, "pod": "0" * 32,
                                            "wachtzin": PASSPHRASE})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.text.count("controleer de pod-id") == 1
    assert cookies.SESSION not in fresh.cookies
    right = fresh.post("/inloggen", data={"csrf": token, "pod": pod_id,
                                          "wachtzin": PASSPHRASE})
    assert right.headers["location"] == "/mijn"


def test_the_skill_search_answers_in_dutch_and_english_labels(app):
    client = browser(app)
    found = client.get("/vaardigheden", params={"q": "beleid"}).json()
    assert found and all("beleid" in s["label"].lower() for s in found[:3])
    english = client.get("/vaardigheden", params={"q": "policy"}).json()
    assert english  # an English label finds the skill, shown with its Dutch label
    assert client.get("/vaardigheden", params={"q": "x" * 101}).status_code == 400
    assert json.loads(client.get("/vaardigheden").text) == []


def test_an_intro_video_streams_into_the_pod_and_plays_back_by_range(app):
    holder, token = signed_in_holder(app)
    video = bytes(range(256)) * 4096  # 1 MiB
    refused = holder.put("/mijn/video", content=video,
                         headers={"Content-Type": "video/webm"})
    assert refused.status_code == 403
    wrong_type = holder.put("/mijn/video", content=b"x", headers={
        "Content-Type": "text/html", "X-CSRF-Token": token})
    assert wrong_type.status_code == 415

    stored = holder.put("/mijn/video", content=video, headers={
        "Content-Type": "video/webm", "X-CSRF-Token": token})

    assert stored.status_code == 200 and stored.json() == {"size": len(video)}
    assert holder.get("/mijn/video").content == video
    part = holder.get("/mijn/video", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == video[10:20]
    assert '<video class="vg-video__player"' in holder.get("/mijn/werkcontext").text
    system = app.state.system
    pod = system.pods.open_with_key(*system.sessions.open(
        holder.cookies[cookies.SESSION][4:], NOW))
    try:
        assert pod.workcontext()["introVideo"]["encodingFormat"] == "video/webm"
        directory = system.pods.directory(pod.did)
    finally:
        pod.lock()
    on_disk = b"".join(p.read_bytes() for p in directory.rglob("*") if p.is_file())
    assert video[:4096] not in on_disk  # ciphertext at rest


def test_a_former_team_member_is_rated_from_the_matches_page(app):
    system = app.state.system
    staff = system.registry.access.authenticate(
        system.registry.access.issue_key(UTRECHT, "staff", "test", NOW))
    members = []
    for _ in range(2):
        holder, token = signed_in_holder(app)
        holder.post("/mijn/toestemmingen", data={
            "csrf": token, "publiek": "employer_and_neighbours", "doel": "matching",
            "veld": ["employer", "skills"], "tot": "2027-06-30"})
        members.append((holder, token))
    skills = sorted(system.reference.skills)[:1]
    assignment = system.registry.create_assignment(
        staff, AssignmentSpec("Omgevingswet", "", tuple(skills)), NOW, "open")
    subjects = []
    for holder, token in members:
        holder.post("/mijn/opdrachten/keuze", data={
            "csrf": token, "opdracht": str(assignment.id), "keuze": "like"})
    page = system.registry.candidates(staff, assignment.id, NOW, "1" * 32, 10)
    for ranked in page.candidates:
        subjects.append(ranked.profile.pseudonym)
        system.work.swipes.by_organisation(staff, assignment.id,
                                           ranked.profile.pseudonym, "like", NOW)
    team = system.work.teams.form(staff, assignment.id, subjects, NOW, "wijkteam")
    system.work.teams.dissolve(staff, team.name, NOW)

    rater, token = members[0]
    matches = rater.get("/mijn/matches").text
    assert "Beoordeel je oud-teamgenoten: wijkteam" in matches
    rated = re.search(r'name="lid" value="([a-z2-7]{52})"', matches).group(1)
    sent = rater.post("/mijn/teams/beoordeling", data={
        "csrf": token, "team": "wijkteam", "lid": rated, "collaboration": "5",
        "expertise": "4", "reliability": "4", "communication": "3",
        "toelichting": "Fijn samengewerkt."})
    assert sent.status_code == 303 and sent.headers["location"] == "/mijn/matches"
    again = rater.post("/mijn/teams/beoordeling", data={
        "csrf": token, "team": "wijkteam", "lid": rated, "collaboration": "5",
        "expertise": "4", "reliability": "4", "communication": "3"})
    assert again.status_code == 409  # one rating per member, shown as a page


def test_signing_out_ends_the_holders_session_even_for_a_copy_of_the_cookie(app):
    holder, _ = signed_in_holder(app)
    token = holder.cookies[cookies.SESSION]
    assert holder.get("/mijn").status_code == 200

    out = holder.post("/uitloggen", data={"csrf": csrf(holder.get("/mijn"))})
    copy = browser(app)
    copy.cookies.set(cookies.SESSION, token)
    api = TestClient(app).get("/api/v1/pod/werkcontext",
                              headers={"Authorization": f"Bearer {token}"})

    assert out.status_code == 303
    assert copy.get("/mijn").status_code in (303, 401)
    assert "Sanne" not in copy.get("/mijn").text
    assert api.status_code == 401
    signed_out = list((app.state.system.settings.data_dir / "signed-out").iterdir())
    assert len(signed_out) == 1 and token not in signed_out[0].name


@pytest.mark.parametrize("path, back", [
    ("//evil.example/pad", "/"), ("/%2F%2Fevil.example", "/"),
    ("/mijn/bestaat-niet", "/mijn"), ("/organisatie/x", "/organisatie")])
def test_the_back_link_of_an_error_page_stays_on_this_site(app, path, back):
    answer = browser(app).get(path)

    assert answer.status_code in (303, 404)
    if answer.status_code == 404:
        assert f'href="{back}"' in answer.text
        assert not re.search(r'href="/+evil', answer.text)


def test_a_like_with_a_bad_cursor_is_refused_and_decides_nothing(app):
    system = app.state.system
    holder, token = signed_in_holder(app)
    holder.post("/mijn/toestemmingen", data={
        "csrf": token, "publiek": "employer_and_neighbours", "doel": "matching",
        "veld": ["employer", "skills"], "tot": "2027-06-30"})
    staff = signed_in_organisation(app)
    requester = system.registry.access.authenticate(staff.key)
    skills = sorted(system.reference.skills)[:1]
    assignment = system.registry.create_assignment(
        requester, AssignmentSpec("Omgevingswet", "", tuple(skills)), NOW, "open")
    [ranked] = system.registry.candidates(requester, assignment.id, NOW, "1" * 32,
                                          10).candidates

    answer = staff.post(f"/organisatie/opdrachten/{assignment.id}/keuze", data={
        "csrf": csrf(staff.get("/organisatie")), "kandidaat": ranked.profile.pseudonym,
        "keuze": "like", "verder": "garbage!!"})

    assert answer.status_code == 400
    assert system.work.swipes.decisions_of_organisation(requester, assignment.id) == {}


@pytest.mark.parametrize("fields", [
    {"van": "", "tot": "2027-02-01"},
    {"van": "2027-02-30", "tot": "2027-03-01"}, {"uren": "²"}, {"uren": "٣"}])
def test_an_end_without_a_start_or_a_foreign_digit_is_refused_and_saves_nothing(
        app, fields):
    holder, token = signed_in_holder(app)
    before = holder.get("/mijn/werkcontext").text

    answer = holder.post("/mijn/werkcontext", data={
        "csrf": token, "actie": "opslaan", "naam": "Sanne de Boer",
        "werkgever": UTRECHT, "vaardigheid": sorted(app.state.system.reference
                                                   .skills)[:3], **fields})

    assert answer.status_code == 400
    assert "invalid literal" not in answer.text
    assert holder.get("/mijn/werkcontext").text.count("2027-0") == before.count(
        "2027-0")


def test_an_off_hours_flag_shows_no_empty_day_or_missing_count(tmp_path):
    clock = {"now": NOW}
    app = create_app(Settings(data_dir=tmp_path, kdf_level="interactive"),
                     clock=lambda: clock["now"])
    system = app.state.system
    holder, token = signed_in_holder(app)
    holder.post("/mijn/toestemmingen", data={
        "csrf": token, "publiek": "employer_and_neighbours", "doel": "matching",
        "veld": ["employer", "skills"], "tot": "2027-06-30"})
    requester = system.registry.access.authenticate(
        system.registry.access.issue_key(UTRECHT, "staff", "test", NOW))
    skills = sorted(system.reference.skills)[:1]
    assignment = system.registry.create_assignment(
        requester, AssignmentSpec("Omgevingswet", "", tuple(skills)), NOW, "open")
    night = NOW + timedelta(hours=14)  # 03:00 in the Netherlands
    assert system.registry.candidates(requester, assignment.id, night, "2" * 32,
                                      10).candidates
    clock["now"] = night + timedelta(hours=1)
    dpo = signed_in_organisation(app, role="dpo")

    flags = dpo.get("/fg/signalen")

    assert flags.status_code == 200
    assert "vg-flag" in flags.text
    assert "None" not in flags.text
    assert "<dd></dd>" not in flags.text.replace(" ", "")


@pytest.mark.parametrize("number", ["²", "1" * 5000, "٣٣"])
def test_a_number_field_with_foreign_or_endless_digits_never_fails_the_server(
        app, number):
    holder, token = signed_in_holder(app)
    staff = signed_in_organisation(app)
    staff_token = csrf(staff.get("/organisatie"))

    answers = [
        staff.post("/organisatie/teams", data={
            "csrf": staff_token, "opdracht": number, "lid": "1" * 32, "naam": "t-1"}),
        holder.post("/mijn/opdrachten/keuze", data={
            "csrf": token, "opdracht": number, "keuze": "like"}),
        holder.post("/mijn/teams/beoordeling", data={
            "csrf": token, "team": "wijkteam", "lid": "1" * 32,
            "collaboration": number, "expertise": "3", "reliability": "3",
            "communication": "3"}),
        holder.post("/mijn/werkcontext", data={
            "csrf": token, "actie": "opslaan", "naam": "Sanne de Boer",
            "uren": number}),
    ]

    assert [a.status_code for a in answers if a.status_code >= 500] == []


@pytest.mark.parametrize("path, fields, template", [
    ("/inloggen", {}, "login_holder"), ("/inloggen", {"pod": "0" * 32}, "login_holder"),
    ("/inloggen", {"wachtzin": PASSPHRASE}, "login_holder"),
    ("/organisatie/inloggen", {}, "login_organisation"),
    ("/organisatie/inloggen", {"sleutel": "   "}, "login_organisation")])
def test_a_sign_in_form_left_empty_is_incomplete_not_unauthorised(app, path, fields,
                                                                 template):
    client = browser(app)
    token = csrf(client.get(path))

    answer = client.post(path, data={"csrf": token, **fields})

    assert answer.status_code == 400
    assert "Vul" in answer.text and "in om in te loggen" in answer.text
    assert cookies.SESSION not in client.cookies
