"""HTTP mechanics of the pod API: strict paths, content negotiation, Turtle,
JSON merge patch and byte ranges. Pure functions, so each rule is tested alone."""

from __future__ import annotations

import json
import re
from typing import Any

import rdflib

from pod import InvalidPath, NotAcceptable
from schemas import ShippedContextLoader, expand

LD_JSON = "application/ld+json"
TURTLE = "text/turtle"
OFFERED = [LD_JSON, "application/json", TURTLE]
POD_PREFIX = "/api/v1/pods/"
_SEGMENT = re.compile(r"^[a-z0-9_\-][a-z0-9_.\-]*$")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def check_raw_path(raw_path: bytes) -> None:
    """Refuse every spelling that could name one resource in two ways, or step out
    of the pod: percent-encoding (so no encoded slash or dot), empty segments,
    dot segments, backslashes and upper case (RFC 3986 6.2.2, 3.3)."""
    path = raw_path.decode("latin-1")
    rest = path[len(POD_PREFIX):] if path.startswith(POD_PREFIX) else None
    if rest is None:
        raise InvalidPath(path[:200])
    segments = rest.split("/")
    inner = segments[:-1] if segments[-1] == "" else segments
    if not inner or any(not _SEGMENT.match(s) or s in (".", "..") for s in inner):
        raise InvalidPath(path[:200])


def negotiate(accept: str | None) -> str:
    """The offered media type the client prefers (RFC 9110 12.5.1); JSON-LD when
    the client does not say."""
    if not accept:
        return LD_JSON
    best, best_q = None, 0.0
    for position, item in enumerate(accept.split(",")):
        kind, _, params = item.strip().partition(";")
        q = _quality(params)
        choice = _match(kind.strip().lower())
        if choice and q > best_q:
            best, best_q = choice, q
    if best is None:
        raise NotAcceptable(OFFERED)
    return best


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name == "q":
            try:
                return max(0.0, min(1.0, float(value)))
            except ValueError:
                return 0.0
    return 1.0


def _match(kind: str) -> str | None:
    if kind in OFFERED:
        return kind
    if kind in ("*/*", "application/*"):
        return LD_JSON
    if kind == "text/*":
        return TURTLE
    return None


def to_turtle(document: dict[str, Any]) -> bytes:
    """Turtle from the expanded form: the shipped contexts expand it, so rdflib
    never sees a context and never fetches one (DESIGN.md invariant 6)."""
    expanded = expand(document, ShippedContextLoader())
    graph = rdflib.Graph()
    graph.parse(data=json.dumps(expanded), format="json-ld")
    return graph.serialize(format="turtle").encode("utf-8")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 section 2: objects merge member by member, null removes a member,
    anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """One byte range (RFC 9110 14.1.2) as inclusive (start, end), or None to send
    the whole resource (no header, or several ranges, which a server may ignore)."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        length = int(last)
        return (max(0, size - length), size - 1) if length else (size, size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    return start, end
