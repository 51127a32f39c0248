"""Canonical JSON: the bytes ``json.dumps`` makes with sorted keys, no whitespace
and UTF-8, for every kind of value a signed document holds; floats refused."""

from __future__ import annotations

import json
from collections import OrderedDict

import pytest

from consent.canonical import canonical_bytes

VALUES = [
    {"b": [1, -2, True, False, None], "a": {"z": "ü € 𝄞", "y": ""}, "": 0},
    [{"é": "\u2028 \t \" \\ /"}, [], {}, [[["deep"]]]],
    "a lone text", 2**53 - 1, -(2**53 - 1), True, None, [], {},
    OrderedDict([("z", 1), ("a", OrderedDict([("y", [1])]))]),
]


@pytest.mark.parametrize("value", VALUES)
def test_canonical_bytes_are_sorted_compact_utf8_json(value):
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")

    assert canonical_bytes(value) == expected


@pytest.mark.parametrize("value", [
    1.5, {"a": [1, {"b": 0.0}]}, [float("nan")], OrderedDict([("a", [2.0])]),
    {"a": type("Money", (float,), {})(1)},
])
def test_a_float_anywhere_is_refused(value):
    with pytest.raises(ValueError):
        canonical_bytes(value)


def test_a_value_json_can_not_write_is_a_type_error():
    with pytest.raises(TypeError):
        canonical_bytes({"a": {1, 2}})


def _json_canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def test_every_character_is_written_as_json_writes_it():
    characters = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    for start in range(0, len(characters), 4096):
        chunk = characters[start:start + 4096]
        value = {c: [c, "x" + c + "y"] for c in chunk}

        assert canonical_bytes(value) == _json_canonical(value)


@pytest.mark.parametrize("value", [
    2**63 - 1, 2**63, 2**64 - 1, 2**64, 10**40, -(2**63), -(2**63) - 1,
    {"a": [2**70, {"b": -(2**70)}]},
])
def test_integers_of_any_size_are_written_as_json_writes_them(value):
    assert canonical_bytes(value) == _json_canonical(value)


class Label(str):
    pass


class Count(int):
    pass


@pytest.mark.parametrize("value", [
    {"a": Label("x")}, [Count(3)], {1: "a", 2: "b"}, {"a": [[[[]]]] * 3},
    json.loads("[" * 300 + "]" * 300),
])
def test_subclasses_non_text_keys_and_deep_nesting_are_written_as_json_writes_them(
        value):
    assert canonical_bytes(value) == _json_canonical(value)


def test_a_lone_surrogate_is_a_value_error_as_before():
    with pytest.raises(ValueError):
        canonical_bytes({"a": "\ud800"})


@pytest.mark.parametrize("value", VALUES[:-1])
def test_a_parsed_value_is_written_as_any_other_without_the_float_walk(value):
    from schemas import parse_bounded

    parsed = parse_bounded(json.dumps(value))

    assert canonical_bytes(parsed, parsed_bounded=True) == canonical_bytes(value)
