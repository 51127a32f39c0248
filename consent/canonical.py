"""Canonical JSON bytes for signing.

Sorted keys, no insignificant whitespace, UTF-8: for the values we sign (strings,
integers, booleans, null, arrays, objects) this equals the JSON Canonicalization Scheme
of RFC 8785. Floats are refused because their RFC 8785 form needs the ECMAScript
number serialisation, which ``json`` does not promise.
"""

from __future__ import annotations

import json
from typing import Any

# ``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``
# builds an encoder on every call, a third of the time of encoding a disclosure;
# this one is built once. It keeps no state between calls (no cycle markers:
# the float walk below never ends on a cyclic value either, and signed values
# come from parsed JSON, which has no cycles).
_ENCODE = json.encoder.c_make_encoder(  # type: ignore[attr-defined]
    None, json.JSONEncoder().default, json.encoder.encode_basestring, None, ":", ",",
    True, False, True) if json.encoder.c_make_encoder is not None else None
_PLAIN = frozenset({str, int, bool, type(None)})


def canonical_bytes(value: Any) -> bytes:
    _refuse_floats(value)
    if _ENCODE is None:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False)
    else:
        text = "".join(_ENCODE(value, 0))
    return text.encode("utf-8")


def _refuse_floats(value: Any) -> None:
    level = [value]
    while level:
        below: list[Any] = []
        for item in level:
            kind = type(item)
            if kind in _PLAIN:
                continue
            if isinstance(item, dict):
                below.extend(item.values())
            elif isinstance(item, list):
                below.extend(item)
            elif isinstance(item, float):
                raise ValueError("floats are not allowed in signed documents")
        level = below
