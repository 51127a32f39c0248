"""A refusal on a page is a sentence in the visitor's language; the raising layer's
own English words appear only beside it, marked as English."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from vg.web.i18n import catalogue
from vg.web.refusals import FormError, explain
from vg.web.i18n import translator

from tests.factories import UTRECHT
from tests.vg.web.test_web_pages import app, signed_in_holder  # noqa: F401

ERROR_MODULES = ("schemas.errors", "consent.errors", "pod.errors", "registry.errors",
                 "registry.errors_work", "audit.errors", "vg.problems")


def error_codes() -> set[str]:
    codes = set()
    for name in ERROR_MODULES:
        for _, cls in inspect.getmembers(importlib.import_module(name), inspect.isclass):
            if issubclass(cls, Exception) and isinstance(getattr(cls, "code", None), str):
                codes.add(cls.code)
    return codes


def test_every_error_code_has_a_sentence_in_dutch_and_in_english():
    codes = error_codes()
    assert len(codes) > 50
    for lang in ("nl", "en"):
        missing = {c for c in codes if f"problem.{c}" not in catalogue(lang)}
        assert missing == set(), (lang, missing)


def test_a_domain_error_is_explained_in_dutch_with_its_english_detail_beside_it():
    from schemas.errors import UnknownSkill
    error = UnknownSkill("http://data.europa.eu/esco/skill/nope")

    why = explain(error, translator("nl"))

    assert why.sentence == "Deze vaardigheid staat niet in ESCO."
    assert why.english == str(error)


def test_a_form_error_names_its_field_in_the_visitors_language():
    error = FormError("form.whole_number", field="workcontext.hours")

    assert explain(error, translator("nl")).sentence == \
        "Uren per week moet een heel getal zijn."
    assert explain(error, translator("en")).sentence == \
        "Hours per week must be a whole number."
    assert explain(error, translator("nl")).english is None


def test_a_refused_form_says_why_in_dutch_and_marks_the_english_detail(app):  # noqa: F811
    holder, token = signed_in_holder(app)

    answer = holder.post("/mijn/werkcontext", data={
        "csrf": token, "actie": "opslaan", "naam": "Sanne de Boer", "werkgever": UTRECHT,
        "vaardigheid": sorted(app.state.system.reference.skills)[:3], "uren": "veel"})

    assert answer.status_code == 400
    alert = re.search(r'<div class="utrecht-alert[^"]*" role="alert".*?</div>', answer.text,
                      re.S).group(0)
    assert "Uren per week moet een heel getal zijn." in alert
    assert "must be" not in alert


def test_a_refused_grant_is_explained_in_dutch(app):  # noqa: F811
    holder, token = signed_in_holder(app)

    answer = holder.post("/mijn/toestemmingen", data={
        "csrf": token, "publiek": "employer_and_neighbours", "doel": "matching",
        "tot": "2027-06-30"})

    assert answer.status_code == 400
    assert "Kies minstens één doel en één gegeven." in answer.text


@pytest.mark.parametrize("fields, sentence", [
    ({"vaardigheid": ["http://data.europa.eu/esco/skill/bestaat-niet"]},
     "Een gekozen vaardigheid staat niet in ESCO."),
    ({"werkgever": "GM9999"}, "Deze werkgever staat niet in de lijst.")])
def test_an_unknown_skill_or_employer_is_refused_not_dropped(app, fields, sentence):  # noqa: F811,E501
    holder, token = signed_in_holder(app)

    answer = holder.post("/mijn/werkcontext", data={
        "csrf": token, "actie": "opslaan", "naam": "Kees de Vries", "werkgever": UTRECHT,
        **fields})

    assert answer.status_code == 400
    assert sentence in answer.text
    after = holder.get("/mijn/werkcontext").text
    assert "Kees de Vries" not in after and "Sanne de Boer" in after


def test_too_many_skills_are_refused_with_the_limit_named(app):  # noqa: F811
    holder, token = signed_in_holder(app)

    answer = holder.post("/mijn/werkcontext", data={
        "csrf": token, "actie": "opslaan", "naam": "Sanne de Boer", "werkgever": UTRECHT,
        "vaardigheid": sorted(app.state.system.reference.skills)[:101]})

    assert answer.status_code == 400
    assert "Kies hoogstens 100 vaardigheden." in answer.text

