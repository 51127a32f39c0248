"""Knowledge sharing on the pages: colleagues by skill and interest groups, with
only what colleagues consented to share with the searcher's organisation."""

from __future__ import annotations

from tests.factories import NOW, UTRECHT
from tests.vg.web.test_web_pages import app, signed_in_holder  # noqa: F401
from vg.web import cookies

SHARE = {"publiek": "employer", "doel": "knowledge_sharing",
         "veld": ["name", "skills"], "tot": "2027-06-30"}


def attested(app, client):  # noqa: F811
    """Utrecht confirms the holder signed in on ``client`` as its employee."""
    system = app.state.system
    did = system.sessions.open(client.cookies[cookies.SESSION][4:], NOW)[0]
    system.registry.employment.attest(UTRECHT, did, NOW)
    return client


def sharing_colleague(app, consent: bool = True):  # noqa: F811
    """A second holder at the same employer, named Sanne de Boer."""
    other, token = signed_in_holder(app)
    if consent:
        assert other.post("/mijn/toestemmingen", data={"csrf": token, **SHARE}
                          ).status_code == 303
    return other, token


def test_colleagues_with_a_skill_are_found_only_with_their_consent(app):  # noqa: F811
    searcher, token = signed_in_holder(app)
    unattested = searcher.get("/mijn/kennisdelen").text
    assert "niet als medewerker bevestigd" in unattested
    assert "zoek je namens geen enkele en vind je geen collega" in unattested
    attested(app, searcher)
    assert "niet als medewerker bevestigd" not in searcher.get("/mijn/kennisdelen").text
    skill = sorted(app.state.system.reference.skills)[0]
    before = searcher.post("/mijn/kennisdelen/collegas", data={
        "csrf": token, "vaardigheid": skill, "actie": "vinden"})
    sharing_colleague(app)

    after = searcher.post("/mijn/kennisdelen/collegas", data={
        "csrf": token, "vaardigheid": skill, "actie": "vinden"})

    assert before.status_code == after.status_code == 200
    assert "0 collega&#39;s gevonden" in before.text
    assert "1 collega gevonden" in after.text
    assert "Sanne de Boer" in after.text
    assert "sanne@voorbeeld.nl" not in after.text  # email was not consented


def test_a_group_lists_only_members_who_share_with_me(app):  # noqa: F811
    founder, token = signed_in_holder(app)
    attested(app, founder)
    created = founder.post("/mijn/kennisdelen/groep", data={
        "csrf": token, "actie": "aanmaken", "slug": "omgevingswet",
        "naam": "Omgevingswet", "thema": "Vergunningen"})
    assert created.status_code == 303
    sharer, sharer_token = sharing_colleague(app)
    silent, silent_token = sharing_colleague(app, consent=False)
    for client, t in ((sharer, sharer_token), (silent, silent_token)):
        assert client.post("/mijn/kennisdelen/groep", data={
            "csrf": t, "actie": "lid-worden", "groep": "omgevingswet"}).status_code == 303

    listed = founder.post("/mijn/kennisdelen/groep", data={
        "csrf": token, "actie": "leden", "groep": "omgevingswet"})

    assert listed.status_code == 200
    assert "Leden van Omgevingswet die kennis delen" in listed.text
    assert listed.text.count("Sanne de Boer") == 1
    assert "3 leden" in listed.text


def test_group_mistakes_are_refused_in_dutch_and_change_nothing(app):  # noqa: F811
    holder, token = signed_in_holder(app)

    bad_slug = holder.post("/mijn/kennisdelen/groep", data={
        "csrf": token, "actie": "aanmaken", "slug": "Niet Goed!", "naam": "X"})
    not_member = holder.post("/mijn/kennisdelen/groep", data={
        "csrf": token, "actie": "leden", "groep": "bestaat-niet"})
    leave = holder.post("/mijn/kennisdelen/groep", data={
        "csrf": token, "actie": "verlaten", "groep": "bestaat-niet"})

    assert bad_slug.status_code == 400
    assert "De invoer is niet volledig of niet juist." in bad_slug.text
    assert not_member.status_code == leave.status_code == 404
    assert "Deze groep bestaat niet." in leave.text
    assert "Er zijn nog geen groepen." in holder.get("/mijn/kennisdelen").text


def test_an_unknown_skill_is_refused_not_searched(app):  # noqa: F811
    holder, token = signed_in_holder(app)

    answer = holder.post("/mijn/kennisdelen/collegas", data={
        "csrf": token, "vaardigheid": "http://example.org/geen-esco", "actie": "vinden"})

    assert answer.status_code == 400
    assert "Een gekozen vaardigheid staat niet in ESCO." in answer.text
