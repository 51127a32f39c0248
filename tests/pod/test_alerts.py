"""Matching an assignment against the private Workcontext, in the pod."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from pod import PodStore
from pod.alerts import AlertBook, AlertSettings, InvalidAlertSettings, fit, in_audience
from pod.crypto import INTERACTIVE

TOOI = "https://identifier.overheid.nl/tooi/id/gemeente/gm0344"
A, B, C, D = (f"http://data.europa.eu/esco/skill/{x}" for x in "abcd")
DOCUMENT = {"worksFor": TOOI, "skills": [A, B],
            "functionLevel": {"levelRank": 3}, "availability": {"hoursPerWeek": 8}}


def test_fit_adds_skills_level_and_hours_with_a_reason_for_each():
    item = {"requiredSkills": [A, C], "optionalSkills": [B], "levelMin": 4,
            "levelMax": 5, "hoursPerWeek": 16}

    score, reasons = fit(DOCUMENT, item)

    assert score == 30 + 15 + 7 + 5
    assert [r["code"] for r in reasons] == ["required-skills", "optional-skills",
                                            "level-fit", "hours-fit"]
    assert reasons[0]["matched"] == [A]


def test_fields_the_document_lacks_add_nothing():
    score, reasons = fit({"skills": [D]}, {"requiredSkills": [A], "hoursPerWeek": 8})
    assert score == 0 and reasons[0]["matched"] == []


def test_audience_is_decided_from_the_pods_own_employer():
    assert in_audience(DOCUMENT, {"audience": {"kind": "all"}})
    assert in_audience(DOCUMENT, {"audience": {"kind": "organisations",
                                               "organisations": [TOOI]}})
    assert not in_audience(DOCUMENT, {"audience": {"kind": "organisations",
                                                   "organisations": ["x"]}})
    assert not in_audience({}, {"audience": {"kind": "organisations",
                                             "organisations": [TOOI]}})


def test_an_audience_of_the_employed_leaves_out_a_pod_without_an_employer():
    assert in_audience(DOCUMENT, {"audience": {"kind": "employed"}})
    assert not in_audience({}, {"audience": {"kind": "employed"}})
    assert in_audience({}, {"audience": {"kind": "all"}})


def test_alert_settings_report_every_problem():
    assert AlertSettings("hourly", 101).problems() == [
        "frequency must be one of immediately, daily, weekly",
        "minScore must be an integer from 0 to 100"]
    assert AlertSettings("weekly", 0).problems() == []


def test_bad_settings_are_refused_before_anything_is_written(tmp_path):
    pod = PodStore(tmp_path, kdf_cost=INTERACTIVE).create(
        "een lange wachtzin 42", datetime(2026, 12, 4, tzinfo=timezone.utc))
    with pytest.raises(InvalidAlertSettings) as refused:
        AlertBook(pod).set_settings(AlertSettings("hourly", 5))
    assert refused.value.problems == [
        "frequency must be one of immediately, daily, weekly"]
    assert not (pod.directory / "alerts.bin").exists()


def test_optional_skills_count_by_their_weight_as_the_feed_gives_them():
    item = {"requiredSkills": [A], "optionalSkills": [
        {"skill": B, "weight": 3}, {"skill": C, "weight": 1}]}

    score, reasons = fit(DOCUMENT, item)

    assert reasons[1] == {"code": "optional-skills", "matched": [B], "of": 2,
                          "points": 11}
    assert score == 60 + 11


BROKEN = [
    {"requiredSkills": "not a list"}, {"requiredSkills": [{"skill": A}, 7, None]},
    {"optionalSkills": [{"skill": [A]}, {"weight": 2}, {"skill": B, "weight": "x"}]},
    {"optionalSkills": [{"skill": B, "weight": True}, {"skill": B, "weight": -1}]},
    {"levelMin": "3", "levelMax": [5]}, {"hoursPerWeek": "16"}, {"hoursPerWeek": 0},
    {"audience": "all"}, {"audience": {"kind": "organisations", "organisations": 7}},
    {"audience": None}, {"optionalSkills": {"skill": B}}]


@pytest.mark.parametrize("item", [{"audience": {"kind": "all"}, "requiredSkills": [A],
                                   **part} for part in BROKEN]
                         + ["not an object", None, [A]])
def test_a_malformed_feed_item_is_matched_as_far_as_it_reads_never_an_error(
        item, tmp_path):
    now = datetime(2026, 12, 4, tzinfo=timezone.utc)
    pod = PodStore(tmp_path, kdf_cost=INTERACTIVE).create("een lange wachtzin 42", now)
    pod.save_workcontext(DOCUMENT, now)
    book = AlertBook(pod)
    book.set_settings(AlertSettings("immediately", 0))

    new = book.take([item], 1, now)

    assert all(isinstance(a["score"], int) and a["score"] <= 100 for a in new)
    assert book.cursor() == 1
