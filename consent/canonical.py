"""Canonical JSON bytes for signing.

Sorted keys, no insignificant whitespace, UTF-8: for the values we sign (strings,
integers, booleans, null, arrays, objects) this equals the JSON Canonicalization Scheme
of RFC 8785. Floats are refused because their RFC 8785 form needs the ECMAScript
number serialisation, which ``json`` does not promise. orjson writes the bytes of
values made of the exact JSON types; the json module writes anything else, so the
bytes are those ``json.dumps`` made before orjson was used.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
# builds an encoder on every call, a third of the time of encoding a disclosure;
# this one is built once. It keeps no state between calls (no cycle markers:
# the float walk below never ends on a cyclic value either, and signed values
# come from parsed JSON, which has no cycles).
_ENCODE = json.encoder.c_make_encoder(  # type: ignore[attr-defined]
    None, json.JSONEncoder().default, json.encoder.encode_basestring, None, ":", ",",
    True, False, True) if json.encoder.c_make_encoder is not None else None
_PLAIN = frozenset({str, int, bool, type(None)})


def canonical_bytes(value: Any, *, parsed_bounded: bool = False) -> bytes:
    """``parsed_bounded``: ``value`` is (part of) what ``schemas.parse_bounded``
    returned, which holds the exact JSON types only and no float (it refuses
    them), so the walk that looks for both is left out."""
    if parsed_bounded or _refuse_floats(value):
        # Only the exact JSON types, as a parser makes them: orjson writes these
        # bytes for them (sorted keys compared by code point, the same escapes,
        # UTF-8), in a fifth of the time. It refuses what the json module takes
        # (integers beyond 64 bits, lone surrogates, nesting past 255 levels,
        # keys that are not strings): those, and values of any other type
        # (subclasses, enums), are written by the json module as before.
        try:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass
    if _ENCODE is None:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False)
    else:
        text = "".join(_ENCODE(value, 0))
    return text.encode("utf-8")


def _refuse_floats(value: Any) -> bool:
    """Raise ValueError on a float anywhere in ``value``; whether every value in
    it is of an exact JSON type (dict, list, str, int, bool or None)."""
    level, exact = [value], True
    while level:
        below: list[Any] = []
        for item in level:
            kind = type(item)
            if kind in _PLAIN:
                continue
            if kind is dict:
                below.extend(item.values())
            elif kind is list:
                below.extend(item)
            elif isinstance(item, float):
                raise ValueError("floats are not allowed in signed documents")
            else:
                exact = False
                if isinstance(item, dict):
                    below.extend(item.values())
                elif isinstance(item, list):
                    below.extend(item)
        level = below
    return exact
