"""After granting: renewing a live grant with a new end date, and downloading the
signed receipts of consent, from the consent page."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from consent import KINDS, EmployerPolicy, verify_receipt
from vg.web.i18n import catalogue
from tests.factories import UTRECHT
from tests.vg.web.test_sharing_pages import attested
from tests.vg.web.test_web_pages import app, grant_count, signed_in_holder  # noqa: F401

NO_GRANT = "00000000-0000-4000-8000-000000000000"  # a UUID no grant has
GRANT = {"publiek": "employer_and_neighbours", "doel": "matching",
         "veld": ["employer", "skills"], "tot": "2027-06-30"}


def granted(client, token) -> str:
    assert client.post("/mijn/toestemmingen", data={"csrf": token, **GRANT}
                       ).status_code == 303
    return live_uuids(client)[-1]


def live_uuids(client) -> list[str]:
    return list(dict.fromkeys(re.findall(r'name="toestemming" value="([0-9a-f-]{36})"',
                                         client.get("/mijn/toestemmingen").text)))


def test_renewing_replaces_the_grant_with_one_that_ends_later(app):  # noqa: F811
    holder, token = signed_in_holder(app)
    old = granted(holder, token)

    answer = holder.post("/mijn/toestemmingen/verlengen", data={
        "csrf": token, "toestemming": old, "tot": "2028-01-31"})

    assert answer.status_code == 303
    page = holder.get("/mijn/toestemmingen").text
    assert "Toestemming verlengd." in page
    [new] = live_uuids(holder)
    assert new != old and grant_count(app, holder) == 1
    assert "31 januari 2028" in page
    assert catalogue("nl")["consent.withdrawn_on"] in page


@pytest.mark.parametrize("fields", [
    {"tot": "2028-02-30"}, {"tot": ""}])
def test_a_renewal_with_a_bad_date_changes_nothing(app, fields):  # noqa: F811
    holder, token = signed_in_holder(app)
    old = granted(holder, token)

    answer = holder.post("/mijn/toestemmingen/verlengen", data={
        "csrf": token, "toestemming": old, "tot": "2028-01-31", **fields})

    assert answer.status_code == 400
    assert "Niet verlengd" in answer.text
    assert live_uuids(holder) == [old]


def test_receipts_download_signed_and_hold_only_the_asked_grant(app):  # noqa: F811
    holder, token = signed_in_holder(app)
    first, second = granted(holder, token), granted(holder, token)
    issuer = holder.get("/api/v1/ontvangstbewijs/sleutel").json()["issuer"]

    everything = holder.post("/mijn/toestemmingen/bewijs", data={"csrf": token})
    one = holder.post("/mijn/toestemmingen/bewijs", data={"csrf": token,
                                                         "toestemming": first})

    for answer in (everything, one):
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/ld+json")
        assert answer.headers["content-disposition"].startswith("attachment;")
        verify_receipt(answer.json(), issuer)
    assert {r["grant"] for r in everything.json()["recordOfActivity"]} == {
        f"urn:uuid:{first}", f"urn:uuid:{second}"}
    assert {r["grant"] for r in one.json()["recordOfActivity"]} == {f"urn:uuid:{first}"}


def test_a_receipt_of_an_unknown_or_foreign_grant_is_not_found(app):  # noqa: F811
    holder, token = signed_in_holder(app)
    granted(holder, token)
    other, other_token = signed_in_holder(app)
    foreign = granted(other, other_token)

    for grant in (foreign, NO_GRANT):
        answer = holder.post("/mijn/toestemmingen/bewijs", data={
            "csrf": token, "toestemming": grant})
        assert answer.status_code == 404
        assert foreign not in answer.text
    assert holder.post("/mijn/toestemmingen/bewijs", data={}).status_code == 403


@pytest.mark.parametrize("action, extra", [("verlengen", {"tot": "2028-01-31"}),
                                           ("intrekken", {}), ("bewijs", {})])
def test_every_grant_action_answers_an_unknown_grant_alike(app, action, extra):  # noqa: F811
    """Renewal, withdrawal and receipt name the grant alike: one of another pod or
    of none is not found (404, not a date to check), one that is no grant's name
    is refused as the form's (400); nothing changes either way."""
    holder, token = signed_in_holder(app)
    own = granted(holder, token)
    other, other_token = signed_in_holder(app)
    foreign = granted(other, other_token)

    unknown = [holder.post(f"/mijn/toestemmingen/{action}", data={
        "csrf": token, "toestemming": grant, **extra}) for grant in (foreign, NO_GRANT)]
    malformed = [holder.post(f"/mijn/toestemmingen/{action}", data={
        "csrf": token, "toestemming": grant, **extra}) for grant in ("nope", "../../etc")]

    for answer in unknown:
        assert answer.status_code == 404
        assert "Deze toestemming bestaat niet" in answer.text
        assert "controleer de datum" not in answer.text
    assert [answer.status_code for answer in malformed] == [400, 400]
    assert live_uuids(holder) == [own] and live_uuids(other) == [foreign]


def test_a_grant_that_starts_later_can_be_withdrawn_from_the_page(app):  # noqa: F811
    from tests.factories import NOW
    from vg.web import cookies

    holder, token = signed_in_holder(app)
    session = {"Authorization": f"Bearer {holder.cookies[cookies.SESSION]}"}
    created = holder.post("/api/v1/pod/toestemmingen", headers=session, json={
        "audience": {"kind": "all_municipalities"}, "purposes": ["matching"],
        "fields": ["skills"], "validFrom": "2027-01-01T00:00:00Z",
        "validUntil": "2027-06-30T00:00:00Z"})
    assert created.status_code == 201, created.text
    uuid = created.json()["id"].removeprefix("urn:uuid:")
    assert created.json()["validFrom"] > NOW.isoformat()
    page = holder.get("/mijn/toestemmingen").text
    assert "Nog niet of tijdelijk niet in werking" in page
    assert f'name="toestemming" value="{uuid}"' in page

    answer = holder.post("/mijn/toestemmingen/intrekken", data={
        "csrf": token, "toestemming": uuid})

    assert answer.status_code == 303
    [grant] = holder.get("/api/v1/pod/toestemmingen", headers=session).json()
    assert grant["withdrawn"] is not None
    assert f'name="toestemming" value="{uuid}"' not in holder.get(
        "/mijn/toestemmingen").text


def test_a_withdrawal_the_register_did_not_take_says_the_data_is_still_visible(
        app, monkeypatch):  # noqa: F811
    from registry import StorageFailed

    holder, token = signed_in_holder(app)
    uuid = granted(holder, token)
    system = app.state.system

    def unavailable(*_args):
        raise StorageFailed()

    monkeypatch.setattr(system.registry, "receive_withdrawal", unavailable)
    answer = holder.post("/mijn/toestemmingen/intrekken",
                         data={"csrf": token, "toestemming": uuid})
    page = holder.get("/mijn/toestemmingen").text

    assert answer.status_code == 303  # recorded, not an error page
    assert "Je intrekking is vastgelegd maar nog niet verwerkt" in page
    assert "Er is niets veranderd" not in page
    assert "Intrekking nog niet verwerkt: nog zichtbaar" in page
    assert f'name="toestemming" value="{uuid}"' in page

    monkeypatch.undo()
    page = holder.get("/mijn/toestemmingen").text  # opening the page sends it again
    assert "Intrekking nog niet verwerkt" not in page
    assert f'name="toestemming" value="{uuid}"' not in page


def test_a_grant_still_being_published_is_shown_with_a_withdraw_button(
        app, monkeypatch):  # noqa: F811
    holder, token = signed_in_holder(app)
    registry = app.state.system.registry
    receive = registry.receive_disclosure
    pages = []

    def look_meanwhile(document, now):
        pages.append(holder.get("/mijn/toestemmingen").text)
        return receive(document, now)

    monkeypatch.setattr(registry, "receive_disclosure", look_meanwhile)
    assert holder.post("/mijn/toestemmingen", data={"csrf": token, **GRANT}
                       ).status_code == 303

    [page] = pages
    assert catalogue("nl")["consent.publication_pending"] in page
    [uuid] = live_uuids(holder)
    assert f'name="toestemming" value="{uuid}"' in page


def _disclosures(app) -> int:
    with app.state.system.registry.engine.connect() as conn:
        return conn.execute(text("select count(*) from disclosure")).scalar()


@pytest.mark.parametrize("fields", [
    {"doel": ["matching", "bogus"]}, {"veld": ["employer", "skills", "salary_hack"]},
    {"publiek": ["all_municipalities", "cross_sector"]},
    {"tot": ["2027-06-30", "2027-07-31"]},
    {"tot": "20270630"}, {"tot": "2027-W26-3"}, {"tot": "2027-181"}])
def test_a_grant_form_with_a_value_it_can_not_take_grants_nothing(app, fields):  # noqa: F811,E501
    holder, token = signed_in_holder(app)
    published = _disclosures(app)

    answer = holder.post("/mijn/toestemmingen", data={"csrf": token,
                                                      **GRANT, **fields})

    assert answer.status_code == 400, answer.text[:300]
    assert grant_count(app, holder) == 0
    assert _disclosures(app) == published


@pytest.mark.parametrize("tot", ["20280131", "2028-W05-1", ["2028-01-31", "2028-02-01"]])
def test_a_renewal_with_a_date_not_written_as_a_day_changes_nothing(app, tot):  # noqa: F811,E501
    holder, token = signed_in_holder(app)
    old = granted(holder, token)

    answer = holder.post("/mijn/toestemmingen/verlengen", data={
        "csrf": token, "toestemming": old, "tot": tot})

    assert answer.status_code == 400
    assert live_uuids(holder) == [old]


def test_a_new_employer_suspends_a_grant_to_the_former_one_and_the_page_says_why(
        app):  # noqa: F811
    holder, token = signed_in_holder(app)
    granted(holder, token)  # employer and neighbours of Utrecht
    skills = sorted(app.state.system.reference.skills)[:3]

    saved = holder.post("/mijn/werkcontext", data={
        "csrf": token, "actie": "opslaan", "naam": "Sanne de Boer",
        "email": "sanne@voorbeeld.nl", "werkgever": "GM0363", "vaardigheid": skills})

    assert saved.status_code == 303
    assert saved.headers["location"] == "/mijn/toestemmingen"
    page = holder.get("/mijn/toestemmingen").text
    nl = catalogue("nl")
    assert nl["notice.saved-suspended"] in page
    assert nl["consent.suspended_employer"] in page
    assert nl["consent.none"] in page  # nothing live any more


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_lifted_suspension_shows_on_the_grant_in_either_language(
        app, lang):  # noqa: F811
    holder, token = signed_in_holder(app)
    granted(holder, token)  # employer and neighbours of Utrecht
    attested(app, holder)  # Utrecht's policy binds only its attested employees
    policies = app.state.system.registry.policies
    narrow = frozenset(KINDS) - {"employer_and_neighbours"}
    policies.set_policy(EmployerPolicy(UTRECHT, narrow), NOW_PAGE)
    assert catalogue("nl")["consent.suspended"] in holder.get(
        "/mijn/toestemmingen").text

    policies.set_policy(EmployerPolicy(UTRECHT, frozenset(KINDS)), LIFTED_PAGE)

    holder.post("/taal", data={"csrf": token, "taal": lang,
                               "terug": "/mijn/toestemmingen"})
    page = holder.get("/mijn/toestemmingen").text
    words = catalogue(lang)
    assert words["consent.suspended"] not in page
    assert words["consent.lifted_on"] in page
    assert {"nl": "14 maart 2027", "en": "14 March 2027"}[lang] in page


NOW_PAGE = datetime(2027, 3, 1, 9, 0, tzinfo=timezone.utc)
LIFTED_PAGE = datetime(2027, 3, 14, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("day, last_second", [
    ("2027-06-30", "2027-06-30T21:59:59+00:00"),  # summer time, UTC+2
    ("2027-01-31", "2027-01-31T22:59:59+00:00")])  # winter time, UTC+1
def test_a_grant_valid_through_a_day_ends_with_that_day_in_the_netherlands(
        app, day, last_second):  # noqa: F811
    """"Geldig tot en met 30 juni" ends when 30 June ends where the holder lives,
    not two hours later, when it ends in UTC."""
    from tests.vg.web.test_workcontext_form import _pod_of

    holder, token = signed_in_holder(app)
    granted_on_page = holder.post("/mijn/toestemmingen", data={
        "csrf": token, **GRANT, "tot": day})
    renewed = holder.post("/mijn/toestemmingen/verlengen", data={
        "csrf": token, "toestemming": live_uuids(holder)[-1], "tot": day})

    assert granted_on_page.status_code == 303 and renewed.status_code == 303
    ends = {record.grant.valid_until.isoformat() for record in _pod_of(app, holder).grants()}
    assert ends == {last_second}
