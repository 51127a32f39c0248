"""The bounds checked before a JSON body is parsed: nesting depth (counted on the
raw text) and forbidden characters in any string."""

from __future__ import annotations

import json

import pytest

from schemas import InvalidDocument, parse_bounded
from schemas.jsonld import MAX_DEPTH


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_a_body_at_the_depth_limit_parses_and_one_deeper_is_refused():
    assert parse_bounded(nested(MAX_DEPTH)) is not None
    with pytest.raises(InvalidDocument):
        parse_bounded(nested(MAX_DEPTH + 1))


def test_brackets_inside_a_string_with_an_escaped_quote_do_not_count_as_depth():
    text = json.dumps({"note": 'she said "' + "[" * 50 + '"'})

    assert parse_bounded(text) == json.loads(text)


def test_brackets_after_an_escaped_quote_outside_the_string_still_count():
    text = '{"a": "x\\"y", "b": ' + nested(MAX_DEPTH + 1) + "}"

    with pytest.raises(InvalidDocument):
        parse_bounded(text)


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\u202e", "\u2066"])
def test_control_and_bidirectional_characters_in_a_string_are_refused(char):
    with pytest.raises(InvalidDocument):
        parse_bounded(json.dumps({"name": f"a{char}b"}))


def test_tabs_and_newlines_in_a_string_are_allowed():
    assert parse_bounded(json.dumps({"name": "a\tb\nc"})) == {"name": "a\tb\nc"}
