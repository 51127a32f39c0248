"""A refusal on a page is a sentence in the visitor's language, and so is the raising
layer's detail beside it: a Dutch page shows no English problem text."""

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


def test_a_domain_error_is_explained_with_its_detail_in_the_pages_language():
    from schemas.errors import UnknownSkill
    error = UnknownSkill("http://data.europa.eu/esco/skill/nope")

    dutch = explain(error, translator("nl"), "nl")
    english = explain(error, translator("en"), "en")

    assert dutch.sentence == "Deze vaardigheid staat niet in ESCO."
    assert dutch.detail == ("skill moet een bekende ESCO-vaardigheid zijn, niet "
                            "'http://data.europa.eu/esco/skill/nope'.")
    assert english.detail == str(error) + "."  # the catalogue's sentence


def test_a_detail_of_no_known_form_is_left_off_a_dutch_page_not_shown_in_english():
    from registry.errors import InvalidAssignment
    error = InvalidAssignment(["something new went wrong"])

    assert explain(error, translator("nl"), "nl").detail is None
    assert explain(error, translator("en"), "en").detail == "something new went wrong"


def _every_problem_the_assignment_rules_write(app) -> list[str]:  # noqa: F811
    """What ``registry.assignments.check_spec`` says of specs that break every rule
    it has, one rule at a time (with its neighbours)."""
    from datetime import date

    from registry.assignments import AssignmentSpec, check_spec
    from registry.errors import InvalidAssignment
    reference = app.state.system.reference
    skill = sorted(reference.skills)[0]
    broken = [
        dict(title="", description="o" * 5001, required_skills=(),
             optional_skills=tuple(["x"] * 101), function_family="nope"),
        dict(title="t", description="", required_skills=("http://data.europa.eu/esco/skill/nope",),
             level_min=4, level_max=2, hours_per_week=50,
             period_start=date(1, 1, 1), period_end=None),
        dict(title="t", description="", required_skills=(skill,), level_min=9,
             period_start=date(2027, 2, 1), period_end=date(2027, 1, 1)),
        dict(title="t", description="", required_skills=(skill,), period_start=date(2027, 1, 1),
             period_end=date(9999, 1, 1)),
        dict(title="t", description="", required_skills=(skill, skill),
             optional_skills=(skill,)),
    ]
    problems = []
    for values in broken:
        try:
            check_spec(AssignmentSpec(**values), reference)
        except InvalidAssignment as exc:
            problems += list(exc.problems)
    return problems


def test_every_problem_an_assignment_can_have_reads_in_dutch(app):  # noqa: F811
    from vg.web.problem_texts import localised
    problems = _every_problem_the_assignment_rules_write(app)

    untranslated = [p for p in problems if localised(p, "nl", translator("nl")) is None]

    assert len(problems) >= 10
    assert untranslated == []


def test_every_problem_a_grant_can_have_reads_in_dutch():
    from datetime import datetime, timedelta, timezone

    from consent import Audience, InvalidGrant, new_grant
    from vg.web.problem_texts import localised
    start = datetime(2027, 1, 1, tzinfo=timezone.utc)
    problems = []
    for valid_from, until in ((start, start), (start, start + timedelta(days=800)),
                              (start.replace(year=1), start)):
        try:
            new_grant("did:key:z6Mkexample", Audience("all_municipalities"),
                      ["matching"], ["skills"], until, start, valid_from=valid_from)
        except InvalidGrant as exc:
            problems += list(exc.problems)

    assert len(problems) >= 3
    assert [p for p in problems if localised(p, "nl", translator("nl")) is None] == []


ASSIGNMENT_REFUSALS = [
    ({"niveau_van": "4", "niveau_tot": "2"},
     "Niveau vanaf mag niet hoger zijn dan Niveau tot en met."),
    ({"uren": "50"}, "Uren per week moet van 1 tot en met 40 zijn."),
    ({"van": "2027-02-01", "tot": "2027-01-01"}, "Vanaf mag niet na Tot en met liggen."),
    ({"van": "2027-02-01"}, "Vanaf en Tot en met horen samen"),
]


@pytest.mark.parametrize("changes, dutch", ASSIGNMENT_REFUSALS)
def test_a_refused_assignment_shows_no_english_on_the_dutch_page(app, changes, dutch):  # noqa: F811,E501
    from tests.vg.web.test_web_pages import csrf, signed_in_organisation
    staff = signed_in_organisation(app)
    form = {"csrf": csrf(staff.get("/organisatie/opdrachten/nieuw")),
            "actie": "opslaan", "titel": "Omgevingswet", "kring": "neighbours",
            "vereist": sorted(app.state.system.reference.skills)[:1],
            "plaats": UTRECHT, **changes}

    answer = staff.post("/organisatie/opdrachten/nieuw", data=form)

    assert answer.status_code == 400
    alert = re.search(r'role="alert".*?</div>', answer.text, re.S).group(0)
    assert dutch in alert
    assert not re.search(r"\b(must|should|given|after|from \d)\b", alert), alert
    assert 'lang="en"' not in alert


def test_a_form_error_names_its_field_in_the_visitors_language():
    error = FormError("form.whole_number", field="workcontext.hours")

    assert explain(error, translator("nl")).sentence == \
        "Uren per week moet een heel getal zijn."
    assert explain(error, translator("en")).sentence == \
        "Hours per week must be a whole number."
    assert explain(error, translator("nl")).detail is None


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



def _workcontext_shape_messages() -> list[str]:
    """Every message the Workcontext's shapes can give, read from the shapes."""
    import re
    from pathlib import Path

    import schemas

    shapes = Path(schemas.__file__).parent / "shapes" / "workcontext.ttl"
    found = re.findall(r'sh:message "((?:[^"\\]|\\.)*)"', shapes.read_text("utf-8"))
    return [m.replace('\\"', '"') for m in found]


def test_every_problem_a_workcontext_can_have_reads_in_dutch_with_its_label():
    from vg.web.problem_texts import localised
    t = translator("nl")
    problems = [*_workcontext_shape_messages(),
                "availability.period must not end before it starts"]

    untranslated = [p for p in problems if localised(p, "nl", t) is None]

    assert len(problems) >= 20
    assert untranslated == []
    assert localised("availability.hoursPerWeek must be an integer from 1 to 40",
                     "nl", t) == "Uren per week moet een heel getal van 1 tot en met 40 zijn."


def test_a_consent_end_before_its_start_names_no_api_member_on_the_dutch_page():
    from vg.web.problem_texts import localised

    shown = localised("validUntil must be after validFrom", "nl", translator("nl"))

    assert shown == ("Geldig tot en met moet na het begin van de toestemming "
                     "(vandaag, tenzij een andere dag gekozen is) liggen.")


CAMEL_CASE = re.compile(r"\b[a-z]+[A-Z][A-Za-z]*\b")


def test_every_problem_reads_in_english_with_labels_not_api_member_names(app):  # noqa: F811,E501
    from vg.web.problem_texts import localised
    t = translator("en")
    problems = [*_every_problem_the_assignment_rules_write(app),
                *_workcontext_shape_messages(),
                "availability.period must not end before it starts",
                "validUntil must be after validFrom"]

    shown = [localised(p, "en", t) for p in problems]

    assert len(problems) >= 30
    assert [s for s in shown if s is None or CAMEL_CASE.search(s)] == []
    assert localised("availability.hoursPerWeek must be an integer from 1 to 40",
                     "en", t) == "Hours per week must be a whole number from 1 to 40."
