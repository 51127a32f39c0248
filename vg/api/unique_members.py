"""One spelling per body: a JSON body with the same member name twice is refused.

RFC 8259 leaves duplicate names undefined and parsers disagree on which one wins; a
typed body would silently keep the last (a passphrase, a ``validUntil``). Every JSON
body is checked here, before any handler runs, whatever JSON media type it names:
a typed body sent as ``application/ld+json`` is parsed by the framework, not by
``schemas.parse_bounded`` (which refuses them in the bodies it parses itself).
"""

from __future__ import annotations

import json

from fastapi import Request
from fastapi.exceptions import RequestValidationError

DUPLICATE = "body has duplicate member names in one object"


class _Duplicate(ValueError):
    pass


def _refuse(pairs: list) -> dict:
    if len({name for name, _ in pairs}) != len(pairs):
        raise _Duplicate(DUPLICATE)
    return dict(pairs)


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


async def unique_members(request: Request) -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if not _is_json(request.headers.get("content-type", "")):
        return
    body = await request.body()  # cached: the handler's parser reads the same bytes
    try:
        json.loads(body, object_pairs_hook=_refuse)
    except _Duplicate:
        raise RequestValidationError(
            [{"type": "duplicate_member", "loc": ("body",), "msg": DUPLICATE}]
        ) from None
    except (ValueError, RecursionError):
        return  # not JSON, or nested too deep: the handler's own parser reports it
