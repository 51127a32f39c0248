"""Which texts hide characters: a joiner (U+200C, U+200D) is part of how some
scripts are written, between two of their letters or marks, and of emoji
sequences; anywhere else it only makes two equal-looking texts differ."""

from __future__ import annotations

import pytest

from schemas import has_hidden_character

ZWNJ, ZWJ = "\u200c", "\u200d"

WRITTEN_WITH_JOINERS = [
    f"می{ZWNJ}خواهم",  # Persian: the non-joiner keeps a prefix apart
    f"خانه{ZWNJ}ها",  # Persian plural
    f"क्{ZWJ}ष",  # Devanagari: the joiner after a virama asks for a half form
    f"ന്{ZWJ}",  # a joiner ending a word in Malayalam (chillu, older form)
    f"\U0001F469{ZWJ}\U0001F4BB",  # an emoji sequence: woman technologist
    f"\u2764\ufe0f{ZWJ}\U0001F525",  # heart on fire: after a variation selector
]
HIDING_JOINERS = [
    f"A{ZWJ}B", f"A{ZWNJ}B", f"{ZWNJ}مریم", f"مریم {ZWNJ}", f"{ZWJ}",
    f"می{ZWNJ}{ZWNJ}خواهم", f"می{ZWNJ}{ZWJ}خواهم", f"Jan{ZWJ}",
    f"1{ZWJ}2", f"\u0645{ZWNJ}A",
]


@pytest.mark.parametrize("text", WRITTEN_WITH_JOINERS)
def test_a_joiner_between_the_letters_of_a_script_is_shown(text):
    assert not has_hidden_character(text)


@pytest.mark.parametrize("text", HIDING_JOINERS)
def test_a_joiner_anywhere_else_hides(text):
    assert has_hidden_character(text)


@pytest.mark.parametrize("text", ["A\u200bB", "A\u2060B", "\ufeffA", "A\U000E0041",
                                  "A\ue000", "A\ufffe", "\u0645\u200b\u0645"])
def test_other_format_and_private_characters_hide(text):
    assert has_hidden_character(text)
