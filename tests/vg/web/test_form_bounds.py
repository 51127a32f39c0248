"""A form value that is too long, names no action or breaks the line of a name is
refused with 400 and the page's error block (in the page's language), and nothing
is saved: a value is never cut to something the holder did not write, and an
unknown button never falls back to the default one."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from registry.tables import Assignment
from tests.factories import UTRECHT
from tests.vg.web.test_form_refusals import refused as refused_with
from tests.vg.web.test_team_page import team_of_two
from tests.vg.web.test_web_pages import (  # noqa: F401
    app,
    csrf,
    signed_in_holder,
    signed_in_organisation,
)


# A name is one line, as in the API: a line break in it is refused saying so.
TWO_LINES = ["Groep\nnaam", "Groep\tnaam", "Groep\u2028naam"]
NOT_ONE_LINE = "moet één regel zijn"


def refused(answer, because: str = "") -> None:
    """Refused on the form itself ("not saved") or on the error page ("nothing
    changed"), with 400 and no success notice either way; the alert gives
    ``because`` as the reason, when given."""
    refused_with(answer, says="Niet opgeslagen" if "Niet opgeslagen" in answer.text
                 else "Er is niets veranderd")
    if because:
        refused_with(answer, says=because)


def saved_workcontext(holder) -> str:
    return holder.get("/mijn/werkcontext").text


def workcontext_form(app, **changes) -> dict:  # noqa: F811
    return {"actie": "opslaan", "naam": "Sanne de Boer", "email": "sanne@voorbeeld.nl",
            "werkgever": UTRECHT, "vaardigheid": sorted(
                app.state.system.reference.skills)[:3], **changes}


@pytest.mark.parametrize("changes, because", [(changes, "") for changes in [
    {"naam": "a" * 5000}, {"naam": "a" * 201}, {"uren": "0320"},
    {"niveau": "3", "schaal": "0" * 11},
    {"telefoon": "0" * 41}, {"niveau": "3", "niveaunaam": "n" * 121},
    {"van": "2027-01-01x", "tot": "2027-02-01"}, {"werkgever": UTRECHT + "x" * 40},
    {"vakgebied": "beleid" * 10}, {"email": "a" * 250 + "@x.nl"},
    {"zoek": "z" * 101}, {"vaardigheid": ["x"] * 101},
    {"actie": "bogus"}, {"actie": "zoeken", "naam": "a" * 201}]] + [
    pytest.param({"naam": text}, NOT_ONE_LINE, id=f"two-lines-{n}")
    for n, text in enumerate(TWO_LINES)])
def test_an_over_long_value_unknown_action_or_broken_name_saves_no_workcontext(
        app, changes, because):  # noqa: F811
    holder, token = signed_in_holder(app)
    saved_workcontext(holder)  # shows, and so ends, the notice of the first save
    before = saved_workcontext(holder)

    answer = holder.post("/mijn/werkcontext", data={
        "csrf": token, **workcontext_form(app, **{"naam": "Anna Jansen", **changes})})

    refused(answer, because)
    assert saved_workcontext(holder) == before
    assert "Anna Jansen" not in saved_workcontext(holder)


def test_the_workcontext_form_without_a_button_saves_as_the_save_button(app):  # noqa: F811,E501
    holder, token = signed_in_holder(app)
    form = workcontext_form(app, naam="Anna Jansen")
    del form["actie"]

    answer = holder.post("/mijn/werkcontext", data={"csrf": token, **form})

    assert answer.status_code == 303
    assert "Anna Jansen" in saved_workcontext(holder)


def assignment_count(app) -> int:  # noqa: F811
    with app.state.system.registry.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Assignment.__table__)
                            ).scalar_one()


@pytest.mark.parametrize("changes", [
    {"titel": "t" * 201}, {"omschrijving": "o" * 5001}, {"uren": "016"},
    {"niveau_van": "03"}, {"plaats": UTRECHT + "0" * 10}, {"kring": "n" * 21},
    {"van": "2027-01-011", "tot": "2027-02-01"}, {"zoek_vereist": "z" * 101},
    {"vereist": ["x"] * 101}, {"actie": "bogus"}])
def test_an_over_long_value_or_unknown_action_creates_no_assignment(app, changes):  # noqa: F811,E501
    staff = signed_in_organisation(app)
    form = {"csrf": csrf(staff.get("/organisatie/opdrachten/nieuw")),
            "actie": "opslaan",
            "titel": "Omgevingswet", "vereist": sorted(
                app.state.system.reference.skills)[:1], "kring": "neighbours",
            "plaats": UTRECHT, "zzp": "ja", **changes}

    answer = staff.post("/organisatie/opdrachten/nieuw", data=form)

    refused(answer)
    assert assignment_count(app) == 0


@pytest.mark.parametrize("action", ["bogus", "Zoeken"])
def test_an_unknown_action_on_the_colleague_search_is_refused(app, action):  # noqa: F811,E501
    holder, token = signed_in_holder(app)

    answer = holder.post("/mijn/kennisdelen/collegas", data={
        "csrf": token, "actie": action,
        "vaardigheid": sorted(app.state.system.reference.skills)[:1]})

    refused(answer)


FORBIDDEN_TEXTS = ["a\x00b", "t\x07", "a\u202eb", "a\u2066b"]


@pytest.mark.parametrize("text", FORBIDDEN_TEXTS)
def test_a_control_or_bidi_character_creates_no_assignment(app, text):  # noqa: F811
    staff = signed_in_organisation(app)
    form = {"csrf": csrf(staff.get("/organisatie/opdrachten/nieuw")),
            "actie": "opslaan", "titel": text, "vereist": sorted(
                app.state.system.reference.skills)[:1], "kring": "neighbours",
            "plaats": UTRECHT}

    answer = staff.post("/organisatie/opdrachten/nieuw", data=form)

    refused(answer)
    assert assignment_count(app) == 0


def test_tabs_and_line_breaks_in_a_description_are_taken(app):  # noqa: F811
    staff = signed_in_organisation(app)
    form = {"csrf": csrf(staff.get("/organisatie/opdrachten/nieuw")),
            "actie": "opslaan", "titel": "Omgevingswet",
            "omschrijving": "Eerst:\tplannen\r\nDan: doen", "vereist": sorted(
                app.state.system.reference.skills)[:1], "kring": "neighbours",
            "plaats": UTRECHT}

    answer = staff.post("/organisatie/opdrachten/nieuw", data=form)

    assert answer.status_code == 303, answer.text[:300]
    assert assignment_count(app) == 1


@pytest.mark.parametrize("field, text, because", [
    *(pytest.param(field, text, "", id=f"{field}-forbidden-{n}")
      for field in ("naam", "thema") for n, text in enumerate(FORBIDDEN_TEXTS)),
    *(pytest.param("naam", text, NOT_ONE_LINE, id=f"naam-two-lines-{n}")
      for n, text in enumerate(TWO_LINES))])
def test_a_control_or_bidi_character_or_a_broken_name_creates_no_interest_group(
        app, field, text, because):  # noqa: F811
    holder, token = signed_in_holder(app)

    answer = holder.post("/mijn/kennisdelen/groep", data={
        "csrf": token, "actie": "aanmaken", "slug": "een-groep", "naam": "Groep",
        "thema": "een\ntwee", field: text})

    refused(answer, because)
    assert app.state.system.work.peers.groups() == []


@pytest.mark.parametrize("text", FORBIDDEN_TEXTS)
def test_a_control_or_bidi_character_in_a_file_name_or_title_adds_no_team_product(
        app, text):  # noqa: F811
    _, team, [(member, token), _] = team_of_two(app)
    path = f"/mijn/teams/{team.name}/producten"

    titled = member.post(path, data={"csrf": token, "titel": text,
                                     "link": "https://example.org/plan"})
    named = member.post(path, content=_multipart(
        {"csrf": token, "titel": "Notulen"}, f"{text}.txt", b"ja"), headers={
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})

    refused(titled)
    assert named.status_code == 400
    assert "Nog geen producten." in member.get(f"/mijn/teams/{team.name}").text


@pytest.mark.parametrize("changes", [
    {"zzp": "nee"}, {"op_afstand": "1"}, {"zzp": ["ja", "ja"]},
    {"titel": ["Omgevingswet", "Tweede"]}, {"kring": ["neighbours", "own"]}])
def test_an_unknown_checkbox_value_or_a_field_sent_twice_creates_no_assignment(
        app, changes):  # noqa: F811
    staff = signed_in_organisation(app)
    form = {"csrf": csrf(staff.get("/organisatie/opdrachten/nieuw")),
            "actie": "opslaan", "titel": "Omgevingswet", "vereist": sorted(
                app.state.system.reference.skills)[:1], "kring": "neighbours",
            "plaats": UTRECHT, **changes}

    answer = staff.post("/organisatie/opdrachten/nieuw", data=form)

    refused(answer)
    assert assignment_count(app) == 0


@pytest.mark.parametrize("start, end", [("0001-01-01", "2027-02-01"),
                                        ("2027-01-01", "9999-12-31")])
def test_a_period_outside_2000_to_2099_creates_no_assignment(app, start, end):  # noqa: F811,E501
    staff = signed_in_organisation(app)
    form = {"csrf": csrf(staff.get("/organisatie/opdrachten/nieuw")),
            "actie": "opslaan", "titel": "Omgevingswet", "van": start, "tot": end,
            "vereist": sorted(app.state.system.reference.skills)[:1],
            "kring": "neighbours", "plaats": UTRECHT}

    answer = staff.post("/organisatie/opdrachten/nieuw", data=form)

    refused(answer)
    assert "een datum van 2000-01-01 tot en met 2099-12-31" in answer.text
    assert assignment_count(app) == 0


BOUNDARY = "grens0123456789"


def _multipart(fields: dict, file_name: str, content: bytes) -> bytes:
    """A form with one file, its name written raw as a browser's own form code
    would not (the test client percent-encodes control characters in it)."""
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"'
             f"\r\n\r\n{value}\r\n".encode() for name, value in fields.items()]
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="bestand"; '
                 f'filename="{file_name}"\r\nContent-Type: text/plain\r\n\r\n'
                 .encode() + content + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
