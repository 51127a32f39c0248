"""A holder's team page: fellow members as far as each shares for teamwork with
the viewer's organisation, and the team's products (links and small files)."""

from __future__ import annotations

import re

import pytest

from registry import AssignmentSpec
from tests.factories import NOW, UTRECHT
from tests.vg.web.test_sharing_pages import attested
from tests.vg.web.test_web_pages import app, signed_in_holder  # noqa: F401

MATCHING = {"publiek": "employer_and_neighbours", "doel": "matching",
            "veld": ["employer", "skills"], "tot": "2027-06-30"}


def team_of_two(app, teamwork=(True, True)):  # noqa: F811
    system = app.state.system
    staff = system.registry.access.authenticate(
        system.registry.access.issue_key(UTRECHT, "staff", "test", NOW))
    assignment = system.registry.create_assignment(
        staff, AssignmentSpec("Omgevingswet", "", tuple(sorted(
            system.reference.skills)[:1])), NOW, "open")
    members = []
    for shares in teamwork:
        holder, token = signed_in_holder(app)
        attested(app, holder)
        holder.post("/mijn/toestemmingen", data={"csrf": token, **MATCHING})
        if shares:
            holder.post("/mijn/toestemmingen", data={
                "csrf": token, "publiek": "employer", "doel": "teamwork",
                "veld": ["name", "email"], "tot": "2027-06-30"})
        holder.post("/mijn/opdrachten/keuze", data={
            "csrf": token, "opdracht": str(assignment.id), "keuze": "like"})
        members.append((holder, token))
    subjects = [r.profile.pseudonym for r in system.registry.candidates(
        staff, assignment.id, NOW, "1" * 32, 10).candidates]
    for subject in subjects:
        system.work.swipes.by_organisation(staff, assignment.id, subject, "like", NOW)
    matched = system.work.swipes.matches(staff, assignment.id, NOW)
    assert len(matched) == 2
    team = system.work.teams.form(staff, assignment.id, matched, NOW,
                                  f"wijkteam-{assignment.id}")
    return staff, team, members


def test_a_member_sees_the_team_with_only_what_each_shares_for_teamwork(app):  # noqa: F811,E501
    _, team, [(sharer, _), (quiet, _)] = team_of_two(app, teamwork=(True, False))

    seen_by_sharer = sharer.get(f"/mijn/teams/{team.name}")
    seen_by_quiet = quiet.get(f"/mijn/teams/{team.name}")

    assert (f'href="/mijn/teams/{team.name}?organisatie={team.organisation}"'
            in sharer.get("/mijn/matches").text)
    assert seen_by_sharer.status_code == seen_by_quiet.status_code == 200
    assert "Omgevingswet" in seen_by_sharer.text
    assert "Deelt geen gegevens voor teamwerk" in seen_by_sharer.text
    assert "Sanne de Boer" not in seen_by_sharer.text
    assert "Sanne de Boer" in seen_by_quiet.text
    assert "sanne@voorbeeld.nl" in seen_by_quiet.text


def test_members_add_a_link_and_a_file_and_download_it(app):  # noqa: F811
    _, team, [(member, token), (other, _)] = team_of_two(app)
    path = f"/mijn/teams/{team.name}/producten"

    link = member.post(path, data={"csrf": token, "titel": "Plan van aanpak",
                                   "link": "https://example.org/plan"})
    upload = member.post(path, data={"csrf": token, "titel": "Notulen"},
                         files={"bestand": ("notulen.txt", b"Besloten: ja.",
                                            "text/plain")})

    assert link.status_code == upload.status_code == 303
    page = other.get(f"/mijn/teams/{team.name}").text
    assert 'href="https://example.org/plan"' in page
    product = re.search(rf'href="({path}/\d+\?organisatie=\w+)" download',
                        page).group(1)
    answer = other.get(product)
    assert answer.content == b"Besloten: ja."
    assert answer.headers["content-disposition"] == 'attachment; filename="notulen.txt"'


@pytest.mark.parametrize("file_name", ["Notulen financiën.pdf", "Verslag (1).pdf"])
def test_a_file_named_in_dutch_is_added_as_the_browser_names_it(
        app, file_name):  # noqa: F811
    _, team, [(member, token), (other, _)] = team_of_two(app)
    path = f"/mijn/teams/{team.name}/producten"

    upload = member.post(path, data={"csrf": token, "titel": "Notulen"},
                         files={"bestand": (file_name, b"%PDF-", "application/pdf")})

    assert upload.status_code == 303, upload.text
    page = other.get(f"/mijn/teams/{team.name}").text
    assert f"({file_name}, " in page
    product = re.search(rf'href="({path}/\d+\?organisatie=\w+)" download',
                        page).group(1)
    assert other.get(product).headers["content-disposition"].startswith(
        "attachment; filename=")


@pytest.mark.parametrize("lang, said", [
    ("nl", "Bestandsnaam: 1 tot 200 tekens"),
    ("en", "File name: 1 to 200 characters, without control"),
])
def test_a_refused_file_name_is_named_on_the_page(app, lang, said):  # noqa: F811
    _, team, [(member, token), _] = team_of_two(app)
    member.post("/taal", data={"csrf": token, "taal": lang, "terug": "/"})

    refused = member.post(f"/mijn/teams/{team.name}/producten",
                          data={"csrf": token, "titel": "Notulen"},
                          files={"bestand": ("a\u200btxt.pdf", b"x",
                                             "application/pdf")})

    assert refused.status_code == 400
    assert said in refused.text


def test_a_wrong_product_or_a_stranger_changes_nothing(app):  # noqa: F811
    _, team, [(member, token), _] = team_of_two(app)
    stranger, stranger_token = signed_in_holder(app)
    path = f"/mijn/teams/{team.name}/producten"

    both = member.post(path, data={"csrf": token, "titel": "X", "link": "https://a.b/"},
                       files={"bestand": ("a.txt", b"a", "text/plain")})
    bad_link = member.post(path, data={"csrf": token, "titel": "X",
                                       "link": "javascript:alert(1)"})
    foreign = stranger.post(path, data={"csrf": stranger_token, "titel": "X",
                                        "link": "https://a.b/"})

    assert both.status_code == bad_link.status_code == 400
    assert "Geef een link of een bestand, niet allebei." in both.text
    assert foreign.status_code == 404
    assert stranger.get(f"/mijn/teams/{team.name}").status_code == 404
    assert stranger.get("/mijn/teams/..%2F..%2Fetc").status_code == 404
    assert "Nog geen producten." in member.get(f"/mijn/teams/{team.name}").text


@pytest.mark.parametrize("declared, served", [
    ("text/html", "application/octet-stream"),
    ("text/javascript", "application/octet-stream"),
    ("image/svg+xml", "application/octet-stream"),
    ("application/pdf", "application/pdf"),
])
def test_a_product_is_served_as_an_inert_download_whatever_was_declared(
        app, declared, served):  # noqa: F811
    _, team, [(member, token), (other, _)] = team_of_two(app)
    path = f"/mijn/teams/{team.name}/producten"
    member.post(path, data={"csrf": token, "titel": "Bijlage"},
                files={"bestand": ("bijlage", b"<script>alert(1)</script>", declared)})
    page = other.get(f"/mijn/teams/{team.name}").text
    product = re.search(rf'href="({path}/\d+\?organisatie=\w+)" download',
                        page).group(1)

    answer = other.get(product)

    assert answer.headers["content-type"].split(";")[0] == served
    assert answer.headers["content-disposition"].startswith("attachment")
    policies = answer.headers.get_list("content-security-policy")
    assert "sandbox; default-src 'none'" in policies
    assert len(answer.headers.get_list("x-content-type-options")) == 1


@pytest.mark.parametrize("size, lang, shown", [
    (25, "nl", "25 bytes"), (25, "en", "25 bytes"), (1024, "nl", "1,0 KiB"),
    (1025, "en", "1.1 KiB"), (1536, "nl", "1,5 KiB"), (131072, "en", "128.0 KiB")])
def test_a_product_size_is_never_shown_as_zero_and_reads_in_the_page_language(
        size, lang, shown):
    from vg.web.render import format_size

    assert format_size(size, lang) == shown
