"""The DPO's filters follow one set of rules on the API, the web page and the
command line: a filter that can not be applied is refused with its reason on each
of them (never an empty, "clean" answer), a case-insensitive code is read in the
log's spelling, and what the log page shows can be pasted back into its filter."""

from __future__ import annotations

import json
import re

import pytest

from tests.factories import NOW, UTRECHT
from tests.vg.web.test_dpo_pages import shown, viewed
from tests.vg.web.test_web_pages import (  # noqa: F401  (app is a fixture)
    app,
    csrf,
    signed_in_organisation,
)
from vg.cli import run

# Per filter (its API name, its form field): values nobody can have meant, each
# with the words the API's reason and the page's reason hold.
BAD = [
    ("organisation", "organisatie", "XX", "organisation of the reference data",
     "organisatie uit de referentiegegevens"),
    ("organisation", "organisatie", "GM0344\u202e", "control characters",
     "stuurteken"),
    ("organisation", "organisatie", "o" * 41, "at most 40 characters",
     "hoogstens 40 tekens"),
    ("requester", "vrager", "\u202e", "control characters", "stuurteken"),
    ("requester", "vrager", "apikey:1\x07", "control characters", "stuurteken"),
    ("requester", "vrager", "apikey:", "apikey:<number>", "apikey:&lt;nummer&gt;"),
    ("requester", "vrager", "sleutel 1", "apikey:<number>", "apikey:&lt;nummer&gt;"),
    ("requester", "vrager", "v" * 201, "at most 200 characters",
     "hoogstens 200 tekens"),
    ("subject", "betrokkene", "c5522d22b088", "32 hexadecimal digits",
     "32 hexadecimale tekens"),
    ("subject", "betrokkene", "z" * 32, "32 hexadecimal digits",
     "32 hexadecimale tekens"),
    ("subject", "betrokkene", "\u2066" + "a" * 32, "control characters",
     "stuurteken"),
    ("purpose", "doel", "nieuwsgierigheid", "one of", "kies een van"),
    ("purpose", "doel", "matching\u202e", "control characters", "stuurteken"),
    ("outcome", "uitkomst", "misschien", "one of", "kies een van"),
    ("since", "van", "05-12-2026", "YYYY-MM-DD", "JJJJ-MM-DD"),
    ("since", "van", "2026-02-30", "YYYY-MM-DD", "JJJJ-MM-DD"),
    ("until", "tot", "gisteren\u202e", "control characters", "stuurteken"),
    ("until", "tot", "2026-13-01", "YYYY-MM-DD", "JJJJ-MM-DD"),
    ("since", "van", "0001-01-01", "2000-01-01", "2000-01-01"),
    ("until", "tot", "9999-12-31", "2099-12-31", "2099-12-31"),
    # The page takes days only.
    ("until", "tot", "9999-12-31T23:00:00-01:00", "2099-12-31", "JJJJ-MM-DD"),
]


def _api(client, path="/api/v1/auditlog", **params):
    return client.get(path, params=params,
                      headers={"Authorization": f"Bearer {client.key}"})


@pytest.mark.parametrize("name, field, value, api_says, page_says", BAD)
def test_every_filter_refuses_a_bad_value_with_its_reason_on_api_and_page(
        app, name, field, value, api_says, page_says):  # noqa: F811
    viewed(app, 2)
    dpo = signed_in_organisation(app, "platform-dpo")
    token = csrf(dpo.get("/fg"))
    log = app.state.system.audit
    size = log.head().size

    answers = [_api(dpo, **{name: value})]
    if name in ("organisation", "since", "until"):
        answers.append(_api(dpo, "/api/v1/auditlog/statistieken", **{name: value}))
        answers.append(_api(dpo, "/api/v1/auditlog/signalen", **{
            "since": "2026-12-01", "until": "2026-12-31", name: value}))
    page = dpo.post("/fg", data={"csrf": token, "actie": "filter", field: value})

    for answer in answers:
        assert answer.status_code == 400, (answer.request.url, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["code"] in ("invalid-audit-query", "invalid-input")
        assert name in answer.json()["detail"] and api_says in answer.json()["detail"]
    assert page.status_code == 400
    alert = re.search(r'role="alert".*?</div>', page.text, re.S).group(0)
    assert page_says in alert
    assert shown(page) == []
    assert log.head().size == size  # nothing was read, so nothing was logged


@pytest.mark.parametrize("value", ["", "2026-12-05T10:00:00", "20261205"])
def test_the_api_refuses_an_empty_filter_and_a_time_without_its_offset(
        app, value):  # noqa: F811
    dpo = signed_in_organisation(app, "platform-dpo")

    answer = _api(dpo, since=value)

    assert answer.status_code == 400
    assert "aware" not in answer.json()["detail"]
    assert answer.json()["detail"].startswith("since must be")


def test_the_cli_export_applies_the_same_rules(app, capsys):  # noqa: F811
    viewed(app, 1)
    data_dir = str(app.state.system.settings.data_dir)
    for args in (["--organisation", "XX"], ["--subject", "c5522d22b088"],
                 ["--requester", "apikey:1\u202e"], ["--since", "2026-12-05T10:00"],
                 ["--outcome", "misschien"]):
        status = run(["audit", "export", "--data-dir", data_dir, *args])
        err = capsys.readouterr().err
        assert status == 2, args
        assert err.startswith(f"vg: {args[0]} must be") and err.count("\n") == 1

    assert run(["audit", "export", "--data-dir", data_dir, "--organisation",
                UTRECHT.lower(), "--since", NOW.date().isoformat()]) == 0
    assert [e["organisation"] for e in json.loads(capsys.readouterr().out)] == [
        UTRECHT]


def test_case_insensitive_codes_are_read_in_the_log_s_spelling(app):  # noqa: F811
    viewed(app, 2)
    dpo = signed_in_organisation(app, "platform-dpo")
    everything = _api(dpo).json()
    subject, requester = everything[0]["subject"], everything[0]["requester"]
    number = requester.removeprefix("apikey:")

    same = [_api(dpo, organisation=UTRECHT.lower()),
            _api(dpo, subject=subject.upper()),
            _api(dpo, requester=f"APIKEY:0{number}")]

    for answer in same:
        assert answer.status_code == 200
        assert [e["index"] for e in answer.json()] == [e["index"] for e in everything]


def test_a_day_is_that_whole_day_on_the_api_as_on_the_page(app):  # noqa: F811
    viewed(app, 2)
    dpo = signed_in_organisation(app, "platform-dpo")
    day, next_day = NOW.date().isoformat(), "2026-12-05"

    that_day = _api(dpo, since=day, until=day)
    after = _api(dpo, since=next_day)
    counts = _api(dpo, "/api/v1/auditlog/statistieken", since=day, until=day)
    page = dpo.post("/fg", data={"csrf": csrf(dpo.get("/fg")), "actie": "filter",
                                 "van": day, "tot": day})

    assert [e["index"] for e in that_day.json()] == [
        e["index"] for e in _api(dpo).json()]
    assert len(that_day.json()) == 2 and after.json() == []
    assert [c["count"] for c in counts.json()] == [2]
    assert shown(page) == [str(e["index"]) for e in that_day.json()]


def test_the_log_page_shows_values_its_filter_finds(app):  # noqa: F811
    viewed(app, 2)
    dpo = signed_in_organisation(app, "platform-dpo")
    page = dpo.get("/fg")
    [subject] = set(re.findall(r'<code class="utrecht-code">([^<]*)</code>',
                               page.text))

    found = dpo.post("/fg", data={"csrf": csrf(page), "actie": "filter",
                                  "betrokkene": subject, "organisatie": "gm0344"})

    assert found.status_code == 200
    assert len(shown(found)) == 2
    assert f'value="{UTRECHT}"' in found.text  # shown back as the log spells it


def test_the_platform_dpo_reads_flags_of_all_or_of_one_organisation(app):  # noqa: F811
    viewed(app, 3)
    dpo = signed_in_organisation(app, "platform-dpo")
    period = {"since": "2026-12-01", "until": "2026-12-31"}

    everyone = _api(dpo, "/api/v1/auditlog/signalen", **period)
    one = _api(dpo, "/api/v1/auditlog/signalen", organisation="gm0344", **period)

    assert everyone.status_code == 200 and one.status_code == 200
    assert everyone.json()["flags"] == one.json()["flags"] != []


@pytest.mark.parametrize("params", [
    {"until": "9999-12-31T23:59:59-01:00"}, {"since": "0001-01-01T00:00:00+01:00"},
    {"since": "9999-12-30", "until": "9999-12-31"}])
def test_an_instant_at_the_edge_of_the_calendar_is_refused_not_an_error(
        app, params):  # noqa: F811
    dpo = signed_in_organisation(app, "platform-dpo")

    for path in ("/api/v1/auditlog", "/api/v1/auditlog/statistieken",
                 "/api/v1/auditlog/signalen"):
        answer = _api(dpo, path, **{"since": "2026-12-01", "until": "2026-12-31",
                                    **params})
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json()["code"] == "invalid-audit-query"
        assert "2099-12-31" in answer.json()["detail"]


def test_the_cli_export_refuses_the_last_day_of_the_calendar(app, capsys):  # noqa: F811
    data_dir = str(app.state.system.settings.data_dir)

    status = run(["audit", "export", "--data-dir", data_dir, "--until", "9999-12-31"])

    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("vg: --until must be a day or a moment") and "2099-12-31" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("value", ["apikey:x", "sleutel 1", "a" * 52 + "!"])
def test_a_municipal_dpo_s_bad_requester_is_told_every_form_of_its_log(app, value):  # noqa: F811
    """A DPO of one organisation sees requesters as keys, the organisation's names for
    holders and the system's own: a refusal names all three, not only the name."""
    dpo = signed_in_organisation(app, "dpo")
    token = csrf(dpo.get("/fg"))

    answer = _api(dpo, requester=value)
    page = dpo.post("/fg", data={"csrf": token, "actie": "filter", "vrager": value})

    assert answer.status_code == 400
    detail = answer.json()["detail"]
    assert "apikey:<number>" in detail and "52 characters" in detail
    assert "system:<name>" in detail
    alert = re.search(r'role="alert".*?</div>', page.text, re.S).group(0)
    assert "apikey:&lt;nummer&gt;" in alert and "52 tekens" in alert
