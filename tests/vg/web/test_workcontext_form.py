"""The Workcontext page saves back what it shows and keeps what it does not show:
saving the form as the page fills it changes nothing the holder did not touch."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.factories import NOW, full_workcontext
from tests.vg.web.test_web_pages import app, signed_in_holder  # noqa: F401
from vg import holder_flows
from vg.api.deps import SESSION_PREFIX
from vg.web import cookies


class FormFields(HTMLParser):
    """The fields a browser sends for the form posting to ``action``, as filled."""

    def __init__(self, action: str):
        super().__init__()
        self.action, self.inside, self.select = action, False, None
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("action") == self.action
        elif not self.inside:
            return
        elif tag == "input" and a.get("name") and a.get("type") not in (
                "submit", "button", "file", "checkbox", "radio"):
            self.fields.append((a["name"], a.get("value") or ""))
        elif tag == "input" and a.get("type") in ("checkbox", "radio") \
                and "checked" in a:
            self.fields.append((a["name"], a.get("value") or "on"))
        elif tag == "select":
            self.select = a.get("name")
        elif tag == "option" and self.select and "selected" in a:
            self.fields.append((self.select, a.get("value") or ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None


def as_filled(page: str, action: str) -> list[tuple[str, str]]:
    parser = FormFields(action)
    parser.feed(page)
    return parser.fields


LEVELS = [
    {"type": "FunctionLevel", "levelSystem": "FGR", "levelCode": "FGR-12",
     "levelName": "Senior adviseur", "levelRank": 4, "salaryScale": 12},
    {"type": "FunctionLevel", "levelSystem": "overig", "levelName": "Teamleider",
     "levelRank": 5},
]


@pytest.mark.parametrize("level", LEVELS)
def test_saving_the_page_unchanged_keeps_the_workcontext_as_it_was(app, level):  # noqa: F811,E501
    holder, _ = signed_in_holder(app)
    pod = _pod_of(app, holder)
    document = dict(full_workcontext(pod.did), functionLevel=level)
    document["availability"] = {"type": "Availability", "hoursPerWeek": 24,
                                "period": {"startDate": "2027-01-01"}}
    _save(app, pod, document)
    before = pod.workcontext()

    fields = as_filled(holder.get("/mijn/werkcontext").text, "/mijn/werkcontext")
    answer = holder.post("/mijn/werkcontext", data=_grouped(fields + [
        ("actie", "opslaan")]))

    assert answer.status_code == 303, answer.text[:500]
    after = pod.workcontext()
    assert after["functionLevel"] == before["functionLevel"] == level
    assert after == before


def test_a_changed_rank_keeps_the_level_s_system_and_code(app):  # noqa: F811
    holder, _ = signed_in_holder(app)
    pod = _pod_of(app, holder)
    _save(app, pod, dict(full_workcontext(pod.did), functionLevel=LEVELS[0]))

    fields = dict(_grouped(as_filled(holder.get("/mijn/werkcontext").text,
                                     "/mijn/werkcontext")))
    fields.update(niveau="3", niveaunaam="Adviseur", actie="opslaan")
    assert holder.post("/mijn/werkcontext", data=fields).status_code == 303

    level = pod.workcontext()["functionLevel"]
    assert level == dict(LEVELS[0], levelRank=3, levelName="Adviseur")


def _pod_of(app, holder):
    """The holder's pod, opened with the session the page's cookie holds."""
    token = holder.cookies.get(cookies.SESSION)
    did, passkey = app.state.system.sessions.open(token[len(SESSION_PREFIX):], NOW)
    return app.state.system.pods.open_with_key(did, passkey)


def _save(app, pod, document) -> None:
    holder_flows.save_workcontext(app.state.system, pod, document, NOW)


def _grouped(fields: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for name, value in fields:
        if name in out:
            previous = out[name]
            out[name] = [*previous, value] if isinstance(previous, list) else [
                previous, value]
        else:
            out[name] = [value] if name == "vaardigheid" else value
    return out


def test_a_refused_save_names_the_field_on_the_dutch_page(app):  # noqa: F811
    holder, _ = signed_in_holder(app)
    fields = dict(_grouped(as_filled(holder.get("/mijn/werkcontext").text,
                                     "/mijn/werkcontext")))
    fields.update(uren="99", actie="opslaan")

    answer = holder.post("/mijn/werkcontext", data=fields)

    assert answer.status_code == 400
    assert "Uren per week moet een heel getal van 1 tot en met 40 zijn." in answer.text


def test_a_scale_or_level_name_without_a_level_is_refused(app):  # noqa: F811
    """A salary scale and a level name typed while the level is left at "none"
    can not be stored (a scale belongs to a level): the save is refused naming
    the field, not answered "saved" with both dropped."""
    holder, _ = signed_in_holder(app)
    pod = _pod_of(app, holder)
    _save(app, pod, full_workcontext(pod.did))
    before = pod.workcontext()
    fields = dict(_grouped(as_filled(holder.get("/mijn/werkcontext").text,
                                     "/mijn/werkcontext")))
    fields.update(niveau="", niveaunaam="Adviseur III", schaal="11", actie="opslaan")

    answer = holder.post("/mijn/werkcontext", data=fields)

    assert answer.status_code == 400, answer.headers.get("location")
    assert "Een niveaunaam of salarisschaal hoort bij een functieniveau" in answer.text
    assert pod.workcontext() == before


def _posted(app, holder, **changes):
    fields = dict(_grouped(as_filled(holder.get("/mijn/werkcontext").text,
                                     "/mijn/werkcontext")))
    fields.update(actie="opslaan", **changes)
    return holder.post("/mijn/werkcontext", data=fields)


def test_the_occupation_is_chosen_changed_and_cleared_on_the_page(app):  # noqa: F811
    """The consent page offers the occupation ("Beroep") to share, so the
    Workcontext page lets the holder set it, from ESCO's occupations."""
    holder, _ = signed_in_holder(app)
    pod = _pod_of(app, holder)
    first, second = app.state.system.reference.public_admin[:2]

    assert 'name="beroep"' in holder.get("/mijn/werkcontext").text
    assert _posted(app, holder, beroep=first.uri).status_code == 303
    chosen = pod.workcontext().get("hasOccupation")
    assert _posted(app, holder, beroep=second.uri).status_code == 303
    changed = pod.workcontext().get("hasOccupation")
    assert _posted(app, holder, beroep="").status_code == 303

    assert (chosen, changed) == (first.uri, second.uri)
    assert "hasOccupation" not in pod.workcontext()


def test_an_occupation_esco_does_not_know_is_refused(app):  # noqa: F811
    holder, _ = signed_in_holder(app)
    pod = _pod_of(app, holder)
    before = pod.workcontext()

    answer = _posted(app, holder,
                     beroep="http://data.europa.eu/esco/occupation/not-one")

    assert answer.status_code == 400
    assert "Dit beroep staat niet in ESCO." in answer.text
    assert pod.workcontext() == before
