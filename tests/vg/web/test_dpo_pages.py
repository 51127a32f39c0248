"""The DPO's log page: a filter it can not apply is refused with the reason on the
page (never the unfiltered log in its place), and a long log pages on."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest

from registry import AssignmentSpec
from tests.factories import NOW, UTRECHT
from tests.vg.web.test_web_pages import (  # noqa: F401
    app,
    csrf,
    signed_in_holder,
    signed_in_organisation,
)
from vg.app import create_app
from vg.settings import Settings
from vg.web import pages_dpo

MATCHING = {"publiek": "employer_and_neighbours", "doel": "matching",
            "veld": ["employer", "skills"], "tot": "2027-06-30"}


def viewed(app, times: int, at=NOW) -> None:  # noqa: F811
    """``times`` entries in Utrecht's log: one candidate shown ``times`` times."""
    system = app.state.system
    holder, token = signed_in_holder(app)
    holder.post("/mijn/toestemmingen", data={"csrf": token, **MATCHING})
    staff = system.registry.access.authenticate(
        system.registry.access.issue_key(UTRECHT, "staff", "test", NOW))
    assignment = system.registry.create_assignment(staff, AssignmentSpec(
        "Omgevingswet", "", tuple(sorted(system.reference.skills)[:1])), NOW, "open")
    for n in range(times):
        system.registry.candidates(staff, assignment.id, at, f"{n + 1:032x}", 10)


def shown(answer) -> list[str]:
    return re.findall(r'<tr class="utrecht-table__row">\s*'
                      r'<td class="utrecht-table__cell">(\d+)</td>', answer.text)


@pytest.mark.parametrize("fields, says", [
    ({"van": "2026-13-01"}, "Vanaf: een datum als JJJJ-MM-DD."),
    ({"van": "05-12-2026"}, "Vanaf: een datum als JJJJ-MM-DD."),
    ({"tot": "gisteren"}, "Tot en met: een datum als JJJJ-MM-DD."),
    ({"van": "2026-12-05", "tot": "2026-12-01"}, "Tot en met ligt voor Vanaf."),
    ({"doel": "nieuwsgierigheid"}, "Doel: kies een van de mogelijkheden."),
    ({"uitkomst": "misschien"}, "Uitkomst: kies een van de mogelijkheden."),
    ({"vanaf": "-1"}, "ontbreekt of klopt niet"),
    ({"betrokkene": "b" * 65}, "Betrokkene (pseudoniem): hoogstens 64 tekens."),
    ({"betrokkene": "b" * 5000}, "Betrokkene (pseudoniem): hoogstens 64 tekens."),
    ({"vrager": "v" * 201}, "Vrager: hoogstens 200 tekens."),
    ({"doel": "d" * 5000}, "Doel: hoogstens 40 tekens."),
    ({"organisatie": "GM0014"}, "Organisatie: kies een van de mogelijkheden."),
    ({"organisatie": "o" * 41}, "Organisatie: hoogstens 40 tekens.")])
@pytest.mark.parametrize("action", ["filter", "csv"])
def test_a_filter_that_can_not_be_applied_is_refused_with_the_reason(
        app, fields, says, action):  # noqa: F811
    viewed(app, 1)
    dpo = signed_in_organisation(app, "dpo")
    log = app.state.system.audit
    size = log.head().size

    answer = dpo.post("/fg", data={"csrf": csrf(dpo.get("/fg")), "actie": action,
                                   **fields})

    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")
    alert = re.search(r'role="alert".*?</div>', answer.text, re.S).group(0)
    assert says in alert
    assert shown(answer) == []
    assert log.head().size == size + 1  # the page's first reading, not the refusal


def test_a_long_log_pages_forward_and_back(app, monkeypatch):  # noqa: F811
    monkeypatch.setattr(pages_dpo, "PAGE", 2)
    viewed(app, 5)
    dpo = signed_in_organisation(app, "dpo")
    token = csrf(dpo.get("/fg"))

    first = dpo.post("/fg", data={"csrf": token, "actie": "filter"})
    second = dpo.post("/fg", data={"csrf": token, "vanaf": "2"})
    last = dpo.post("/fg", data={"csrf": token, "vanaf": "4"})

    assert [len(shown(a)) for a in (first, second, last)] == [2, 2, 1]
    assert len(set(shown(first) + shown(second) + shown(last))) == 5
    assert 'name="vanaf" value="2"' in first.text
    assert 'name="vanaf" value="0"' in second.text  # back
    assert 'name="vanaf" value="4"' in second.text  # on
    assert 'name="vanaf" value="6"' not in last.text


def _csv_rows(answer) -> list[dict]:
    return list(csv.DictReader(io.StringIO(answer.text)))


def test_the_csv_export_holds_every_row_the_filter_selects(app, monkeypatch):  # noqa: F811,E501
    monkeypatch.setattr(pages_dpo, "EXPORT_PAGE", 2)
    viewed(app, 5)
    dpo = signed_in_organisation(app, "dpo")
    token = csrf(dpo.get("/fg"))
    expected = [r.index for r in app.state.system.audit.entries(
        limit=1000, organisation=UTRECHT)]

    answer = dpo.post("/fg", data={"csrf": token, "actie": "csv"})

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = _csv_rows(answer)
    assert len(expected) > 2 * pages_dpo.EXPORT_PAGE
    assert [int(r["index"]) for r in rows] == expected


def test_a_csv_export_larger_than_its_bound_is_refused_saying_so(app, monkeypatch):  # noqa: F811,E501
    monkeypatch.setattr(pages_dpo, "EXPORT_MAX_ROWS", 3)
    viewed(app, 5)
    dpo = signed_in_organisation(app, "dpo")

    answer = dpo.post("/fg", data={"csrf": csrf(dpo.get("/fg")), "actie": "csv"})

    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")
    alert = re.search(r'role="alert".*?</div>', answer.text, re.S).group(0)
    assert "hoogstens 3 regels" in alert


def test_a_filter_still_applies_on_the_next_page(app, monkeypatch):  # noqa: F811
    monkeypatch.setattr(pages_dpo, "PAGE", 2)
    viewed(app, 3)
    dpo = signed_in_organisation(app, "dpo")

    answer = dpo.post("/fg", data={"csrf": csrf(dpo.get("/fg")), "vanaf": "2",
                                   "uitkomst": "refused"})

    assert answer.status_code == 200 and shown(answer) == []


def flags_page(tmp_path, lang: str, times: int, hours: int = 0):
    """The flags page the day after ``times`` views of one person, ``hours`` after
    noon (UTC)."""
    clock = {"now": NOW + timedelta(hours=hours)}
    app = create_app(Settings(data_dir=tmp_path, kdf_level="interactive"),
                     clock=lambda: clock["now"])
    viewed(app, times, clock["now"])
    clock["now"] += timedelta(hours=1)
    dpo = signed_in_organisation(app, "dpo")
    if lang == "en":
        dpo.post("/taal", data={"csrf": csrf(dpo.get("/fg")), "taal": "en",
                                "terug": "/fg"})
    answer = dpo.get("/fg/signalen")
    assert answer.status_code == 200
    return re.findall(r"<dd>(.*?)</dd>", answer.text.split("<h1", 1)[1], re.S)


def test_flag_explanations_are_in_the_pages_language_with_its_dates(tmp_path):
    dutch = flags_page(tmp_path / "nl", "nl", 20, hours=14)  # 03:00 in Amsterdam
    english = flags_page(tmp_path / "en", "en", 20, hours=14)

    assert ("20 inzagen op 5 december 2026 (UTC, zoals de telling per dag en het "
            "filter); een gewone dag telt er 0.") in dutch
    assert "20 times shown in the period." in english
    assert "20 keer getoond in de periode." in dutch
    assert ("20 entries on 5 December 2026 (UTC, as the counts per day and the "
            "filter); a usual day has 0.") in english
    assert ("Verzoek op zaterdag 5 december 2026 om 03:00 lokale tijd (02:00 UTC): "
            "in het weekend.") in dutch
    assert ("Request on Saturday 5 December 2026 at 03:00 local time (02:00 UTC): "
            "at the weekend.") in english
    for text in dutch + english:
        assert "+01:00" not in text and "request at" not in text
        assert "entries on" not in text or text in english


def test_the_field_of_work_options_are_in_the_pages_language(app):  # noqa: F811
    holder, token = signed_in_holder(app)
    holder.post("/taal", data={"csrf": token, "taal": "en", "terug": "/"})

    english = holder.get("/mijn/werkcontext").text

    options = re.search(r'<select[^>]*id="vakgebied".*?</select>', english,
                        re.S).group(0)
    assert ">Policy<" in options and ">Service delivery<" in options
    assert 'value="beleid"' in options and ">beleid<" not in options


def test_an_unknown_action_on_the_log_page_is_refused_and_shows_nothing(app):  # noqa: F811,E501
    viewed(app, 1)
    dpo = signed_in_organisation(app, "dpo")
    token = csrf(dpo.get("/fg"))
    size = app.state.system.audit.head().size

    answer = dpo.post("/fg", data={"csrf": token, "actie": "bogus"})

    assert answer.status_code == 400
    assert "Actie: kies een van de mogelijkheden." in answer.text
    assert shown(answer) == []
    assert app.state.system.audit.head().size == size


def test_a_day_is_shown_as_a_date_and_weekday_flags_say_why(tmp_path):
    """A day (of the volume flag, of the counts per day) is a date, never a date
    at midnight UTC; a weekday request before office hours says so."""
    dutch = flags_page(tmp_path / "nl", "nl", 20, hours=-7)  # Friday 06:00 local
    english = flags_page(tmp_path / "en", "en", 20, hours=-7)

    assert "5 december 2026" not in dutch and "4 december 2026" in dutch
    assert ("Verzoek op vrijdag 4 december 2026 om 06:00 lokale tijd (05:00 UTC): "
            "voor 07:00, het begin van de kantoortijd.") in dutch
    assert ("Request on Friday 4 December 2026 at 06:00 local time (05:00 UTC): "
            "before 07:00, when office hours begin.") in english
    assert not [text for text in dutch + english if "00:00 UTC" in text]


def test_the_counts_per_day_show_each_day_as_a_date(tmp_path):
    clock = {"now": NOW}
    app = create_app(Settings(data_dir=tmp_path, kdf_level="interactive"),
                     clock=lambda: clock["now"])
    viewed(app, 2)
    clock["now"] += timedelta(hours=1)
    dpo = signed_in_organisation(app, "dpo")

    page = dpo.get("/fg/statistieken").text

    assert '<td class="utrecht-table__cell">4 december 2026</td>' in page
    assert "00:00 UTC" not in page


def test_the_csv_export_names_grants_as_the_organisation_alone_is_shown_them(app):  # noqa: F811,E501
    viewed(app, 2)
    system = app.state.system
    [grant] = {g for r in system.audit.entries(limit=10, organisation=UTRECHT)
               for g in r.entry.grants}
    dpo = signed_in_organisation(app, "dpo")

    answer = dpo.post("/fg", data={"csrf": csrf(dpo.get("/fg")), "actie": "csv"})

    assert answer.status_code == 200 and grant not in answer.text
    assert {r["grants"] for r in _csv_rows(answer) if r["grants"]} == {
        system.org_pseudonyms.grant_name(UTRECHT, grant)}
