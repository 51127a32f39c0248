"""Sentences with a number say it in the singular for one and in the plural
otherwise, in both languages, and no sentence leaves it to the reader with
"(s)" or "(en)"."""

from __future__ import annotations

import re

import pytest

from vg.web.i18n import LANGUAGES, PLURAL_OF, SINGULAR, catalogue, translator
from vg.web.render import format_date


@pytest.mark.parametrize("lang, key, values, one, many", [
    ("nl", "candidates.total", {}, "1 kandidaat.", "2 kandidaten."),
    ("en", "candidates.total", {}, "1 candidate.", "2 candidates."),
    ("nl", "feed.count", {}, "Nog 1 opdracht.", "Nog 2 opdrachten."),
    ("en", "feed.count", {}, "1 assignment left.", "2 assignments left."),
    ("nl", "holder.live_grants", {}, "Je hebt 1 lopende toestemming.",
     "Je hebt 2 lopende toestemmingen."),
    ("en", "holder.live_grants", {}, "You have 1 live consent.",
     "You have 2 live consents."),
    ("en", "reason.level-fit", {"points": "4"}, "Level: 1 step off (4 points)",
     "Level: 2 steps off (4 points)"),
])
def test_a_count_of_one_is_said_in_the_singular(lang, key, values, one, many):
    t = translator(lang)
    number = PLURAL_OF.get(key, "count")

    assert t(key, **values, **{number: 1}) == one
    assert t(key, **values, **{number: "1"}) == one
    assert t(key, **values, **{number: 2}) == many


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_sentence_leaves_the_plural_to_the_reader(lang):
    texts = catalogue(lang)

    left_open = re.compile(r"\w\((s|en|pen)\)")
    assert [key for key, text in texts.items() if left_open.search(text)] == []
    for key in texts:
        if key.endswith(SINGULAR):
            base = key.removesuffix(SINGULAR)
            assert base in texts
            assert "{" + PLURAL_OF.get(base, "count") + "}" in texts[base]


@pytest.mark.parametrize("lang, shown", [("nl", "5 december 2026"),
                                          ("en", "5 December 2026")])
def test_a_day_is_shown_without_a_time(lang, shown):
    assert format_date("2026-12-05", lang) == shown
    assert format_date("2026-12-05T13:52:00Z", lang) == shown + ", 13:52 UTC"
