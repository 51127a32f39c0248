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
    if isinstance(value, float):
        raise ValueError("floats are not allowed in signed documents")
    if isinstance(value, dict):
        for item in value.values():
            _refuse_floats(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_floats(item)
