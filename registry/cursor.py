"""Cursors for paging through a ranked list.

A cursor names the last candidate of a page by its place in the order (score, then
the organisation's tie key of their pseudonym: ``match_scoring``), not by an
offset: a candidate who withdraws between two pages shifts nobody into or out of
the next page. It holds nothing that page did not show.
"""

from __future__ import annotations

import base64
import json
import re

from consent.keys import b64url_decode

from .errors import InvalidCursor

MAX_CURSOR = 200
_PSEUDONYM = re.compile(r"[0-9a-f]{32}")


def encode(score: int, pseudonym: str) -> str:
    raw = json.dumps([score, pseudonym], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str) -> tuple[int, str]:
    if len(cursor) > MAX_CURSOR:
        raise InvalidCursor()
    try:
        raw = b64url_decode(cursor)  # one spelling per cursor
        score, pseudonym = json.loads(raw)
    except (ValueError, TypeError):
        raise InvalidCursor() from None
    if (not isinstance(score, int) or isinstance(score, bool) or not 0 <= score <= 100
            or not isinstance(pseudonym, str) or not _PSEUDONYM.fullmatch(pseudonym)):
        raise InvalidCursor()
    return score, pseudonym

