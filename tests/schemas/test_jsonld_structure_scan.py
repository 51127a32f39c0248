"""The scans of a body's structure (the text outside its strings) that decide how
it is parsed: the nesting depth, and whether every number in it is a small
integer. Each must agree with its plain definition on any structure, balanced
or not, ASCII or not."""

from __future__ import annotations

import json
import re
from itertools import accumulate

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import InvalidDocument, parse_bounded
from schemas.jsonld import MAX_DEPTH, _depth, _small_integers_only

STRUCTURE = st.text(alphabet="[]{},:0123456789.eEtrufalsnNI- \né", max_size=80)
BRACKETS = st.text(alphabet="[]{}", max_size=40)


def defined_depth(structure: str) -> int:
    steps = (1 if c in "[{" else -1 for c in structure if c in "[]{}")
    return max(accumulate(steps), default=0)


def defined_small(structure: str) -> bool:
    return re.search(r"[.NI]|[0-9][eE]|[0-9]{16}", structure) is None


@settings(max_examples=400)
@given(BRACKETS)
def test_the_depth_of_any_bracket_sequence_is_its_deepest_nesting(structure):
    assert _depth(structure) == defined_depth(structure)


@settings(max_examples=400)
@given(STRUCTURE)
def test_the_depth_of_any_structure_ignores_what_is_not_a_bracket(structure):
    assert _depth(structure) == defined_depth(structure)


def test_the_depth_of_a_deep_structure_is_counted_past_the_limit():
    deep = "[" * (MAX_DEPTH + 3) + "{}" + "]" * (MAX_DEPTH + 3)

    assert _depth(deep) == MAX_DEPTH + 4
    assert _depth("[[]" * 5) == defined_depth("[[]" * 5)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
    | st.text(alphabet="ab e.", max_size=5),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(alphabet="xyE1", max_size=3), inner, max_size=4),
    max_leaves=20)


@settings(max_examples=600)
@given(STRUCTURE)
def test_no_structure_the_pattern_refuses_is_taken_for_small_integers(structure):
    # Text that is no JSON may be sent to the slower path needlessly, never the
    # other way round.
    if not defined_small(structure):
        assert not _small_integers_only(structure)


@settings(max_examples=600)
@given(JSON)
def test_small_integers_in_json_are_told_as_the_pattern_tells_them(value):
    structure = "".join(json.dumps(value).split('"')[::2])

    assert _small_integers_only(structure) == defined_small(structure)


def test_numbers_that_are_no_small_integers_are_found_beside_true_and_false():
    for structure in ("[1e5]", "[1E5]", "[true,1e5]", "[1e5,false]", "[0.5]",
                      "[NaN]", "[Infinity]", "[" + "1" * 16 + "]", "[trueE]"):
        assert not _small_integers_only(structure), structure
    for structure in ("[true,false,null]", "[" + "1" * 15 + "]", "[-7,{:}]", ""):
        assert _small_integers_only(structure), structure


def test_a_body_with_an_exponent_after_true_is_still_refused_as_a_float():
    assert parse_bounded('{"a": true, "b": 1}') == {"a": True, "b": 1}
    with pytest.raises(InvalidDocument):
        parse_bounded('{"a": true, "b": 1e2}')
