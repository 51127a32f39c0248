"""Canonical JSON bytes for signing.

Sorted keys, no insignificant whitespace, UTF-8: for the values we sign (strings,
integers, booleans, null, arrays, objects) this equals the JSON Canonicalization Scheme
of RFC 8785. Floats are refused because their RFC 8785 form needs the ECMAScript
number serialisation, which ``json`` does not promise.
"""

from __future__ import annotations

import json
from typing import Any


def canonical_bytes(value: Any) -> bytes:
    _refuse_floats(value)
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def _refuse_floats(value: Any) -> None:
    level = [value]
    while level:
        below: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                below.extend(item.values())
            elif isinstance(item, list):
                below.extend(item)
            elif isinstance(item, float):
                raise ValueError("floats are not allowed in signed documents")
        level = below
