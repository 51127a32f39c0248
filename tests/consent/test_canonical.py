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
