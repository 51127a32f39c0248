"""An audit view that is cut says so: the API answers a page with a Link rel="next"
to the rest (JSON and CSV, DPO and holder), the command line writes every entry
by paging itself or, when asked for fewer, says on stderr that more follow and
exits non-zero, and the holder's page offers the older entries. Nothing is cut
silently."""

from __future__ import annotations

import csv
import io
import json
import re

from tests.vg.test_api import GRONINGEN, UTRECHT, _key, api  # noqa: F401
from tests.vg.test_api_audit import _viewed
from vg import cli
from vg.cli import run

NEXT = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')


def _next(response) -> str | None:
    link = response.headers.get("link")
    if link is None:
        return None
    found = NEXT.match(link)
    assert found, link
    return found["url"]


def _all_pages(api, url: str, headers, read) -> tuple[list[int], int]:
    indexes, pages = [], 0
    while url is not None:
        response = api.get(url, headers=headers)
        assert response.status_code == 200, response.text
        indexes += read(response)
        pages += 1
        url = _next(response)
    return indexes, pages


def test_a_cut_page_of_the_log_links_to_the_rest_and_the_last_does_not(api):
    _viewed(api, (UTRECHT, GRONINGEN, UTRECHT))
    dpo = _key(api, UTRECHT, "platform-dpo")

    indexes, pages = _all_pages(api, "/api/v1/auditlog?limit=2", dpo,
                                lambda r: [e["index"] for e in r.json()])

    everything = [e["index"] for e in api.get("/api/v1/auditlog?limit=1000",
                                              headers=dpo).json()]
    assert pages > 1
    assert indexes == sorted(set(indexes))  # none twice, in log order
    assert indexes == [i for i in everything if i <= indexes[-1]]


def test_the_next_link_keeps_the_filters_and_the_format(api):
    _viewed(api, (UTRECHT, GRONINGEN, UTRECHT))
    dpo = _key(api, UTRECHT, "platform-dpo")

    def rows(response) -> list[int]:
        assert response.headers["content-type"].startswith("text/csv")
        read = list(csv.DictReader(io.StringIO(response.text)))
        assert all(r["organisation"] == UTRECHT for r in read)
        return [int(r["index"]) for r in read]

    indexes, pages = _all_pages(
        api, f"/api/v1/auditlog?organisation={UTRECHT}&format=csv&limit=1", dpo, rows)

    assert pages > 1 and indexes == sorted(set(indexes))


def test_a_page_that_holds_the_rest_has_no_next_link(api):
    _viewed(api, (UTRECHT,))
    response = api.get("/api/v1/auditlog?limit=1000",
                       headers=_key(api, UTRECHT, "platform-dpo"))

    assert response.status_code == 200 and "link" not in response.headers


def test_a_cursor_that_is_not_a_log_index_is_a_400(api):
    response = api.get("/api/v1/auditlog?after=-5",
                       headers=_key(api, UTRECHT, "platform-dpo"))

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


def test_the_holder_s_access_view_links_to_the_rest(api):
    holder = _viewed(api, (UTRECHT, GRONINGEN, UTRECHT))

    indexes, pages = _all_pages(
        api, "/api/v1/pod/inzage?limit=1", holder,
        lambda r: [e["index"] for e in r.json()["entries"]])

    whole = api.get("/api/v1/pod/inzage", headers=holder).json()["entries"]
    assert pages == 3 and indexes == [e["index"] for e in whole]


def test_the_cli_export_writes_every_entry_by_paging(api, monkeypatch, capsys):
    _viewed(api, (UTRECHT, GRONINGEN, UTRECHT))
    every = [e["index"] for e in api.get(
        "/api/v1/auditlog?limit=1000", headers=_key(api, UTRECHT, "platform-dpo")
    ).json()]
    monkeypatch.setattr(cli, "EXPORT_PAGE", 2)
    data_dir = str(api.system.settings.data_dir)
    capsys.readouterr()

    status = run(["audit", "export", "--data-dir", data_dir])
    written = capsys.readouterr()
    assert status == 0, written.err
    assert [e["index"] for e in json.loads(written.out)] == every

    status = run(["audit", "export", "--data-dir", data_dir, "--format", "csv"])
    written = capsys.readouterr()
    assert status == 0, written.err
    rows = list(csv.DictReader(io.StringIO(written.out)))
    assert [int(r["index"]) for r in rows] == every


def test_the_cli_export_asked_for_fewer_says_more_follow_and_exits_non_zero(
        api, capsys):
    _viewed(api, (UTRECHT, GRONINGEN))
    data_dir = str(api.system.settings.data_dir)
    capsys.readouterr()

    status = run(["audit", "export", "--data-dir", data_dir, "--limit", "1"])

    written = capsys.readouterr()
    assert status != 0
    assert len(json.loads(written.out)) == 1
    assert written.err.count("\n") == 1 and "--after" in written.err


def test_the_holder_page_offers_the_older_entries(api, monkeypatch):
    from fastapi.testclient import TestClient

    from vg.web import pages_holder

    holder = _viewed(api, (UTRECHT, GRONINGEN, UTRECHT))
    monkeypatch.setattr(pages_holder, "ACCESS_PAGE", 2)
    browser = TestClient(api.app, base_url="https://testserver")
    browser.cookies.set("__Host-vg-sessie", holder["Authorization"].split()[1])

    newest = browser.get("/mijn/inzage")
    older = browser.get("/mijn/inzage?tot=1")

    assert newest.status_code == 200 and older.status_code == 200
    assert "/mijn/inzage?tot=1" in newest.text
    assert newest.text.count("vg-access-entry") == 2
    assert older.text.count("vg-access-entry") == 1
    assert "/mijn/inzage?tot=3" in older.text
    assert browser.get("/mijn/inzage?tot=x").status_code == 400


def _flag_pages(api, dpo, monkeypatch, rows: int):
    from audit import flags

    monkeypatch.setattr(flags, "MAX_ROWS", rows)
    period = "since=2026-12-01&until=2026-12-31"
    return _all_pages(api, f"/api/v1/auditlog/signalen?{period}", dpo,
                      lambda r: [f["traceId"] for f in r.json()["flags"]])


def test_cut_flags_link_to_the_rest_of_the_period(api, monkeypatch):
    from tests.vg.test_api_audit import NOW

    api.clock["now"] = NOW.replace(hour=23)  # every request outside office hours
    _viewed(api, (UTRECHT, GRONINGEN, UTRECHT))
    dpo = _key(api, UTRECHT, "platform-dpo")

    whole, one_page = _flag_pages(api, dpo, monkeypatch, 100_000)
    paged, pages = _flag_pages(api, dpo, monkeypatch, 1)

    assert one_page == 1 and len(whole) == 3
    assert pages > 1
    assert sorted(paged) == sorted(whole)  # none missed, none twice


def test_a_cut_flags_page_offers_the_rest(api, monkeypatch):
    from fastapi.testclient import TestClient

    from audit import flags
    from tests.vg.test_api_audit import NOW

    api.clock["now"] = NOW.replace(hour=23)
    _viewed(api, (UTRECHT, GRONINGEN, UTRECHT))
    api.clock["now"] = NOW.replace(hour=23, minute=30)  # the page reads up to now
    monkeypatch.setattr(flags, "MAX_ROWS", 1)
    browser = TestClient(api.app, base_url="https://testserver")
    key = api.app.state.system.registry.access.issue_key(UTRECHT, "platform-dpo",
                                                          "test", NOW)
    browser.post("/organisatie/inloggen", data={"sleutel": key, "csrf": _csrf(browser)})

    first = browser.get("/fg/signalen")
    link = re.search(r'href="(/fg/signalen\?na=\d+)"', first.text)

    assert first.status_code == 200 and link, first.text[-2000:]
    rest = browser.get(link.group(1).replace("&amp;", "&"))
    assert rest.status_code == 200
    assert browser.get("/fg/signalen?na=x").status_code == 400


def _csrf(browser) -> str:
    page = browser.get("/organisatie/inloggen")
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
