"""HTTP mechanics of the pod API: strict paths, content negotiation, Turtle,
JSON merge patch and byte ranges. Pure functions, so each rule is tested alone."""

from __future__ import annotations

import json
import re
from typing import Any

from pod import InvalidPath, NotAcceptable, RangeNotSatisfiable
from schemas import ShippedContextLoader, expand

from ..problems import domain_problem

LD_JSON = "application/ld+json"
TURTLE = "text/turtle"
OFFERED = [LD_JSON, "application/json", TURTLE]
POD_PREFIX = "/api/v1/pods/"
# A pod's Workcontext, the address the fast read and write answer themselves.
WORKCONTEXT_PATH = re.compile(r"^/api/v1/pods/([0-9a-f]{32})/werkcontext\Z")
_SEGMENT = re.compile(r"^[a-z0-9_\-][a-z0-9_.\-]*\Z")
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)\Z")


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
    the client does not say. Each offered type takes the weight of the most specific
    range that matches it; weight 0 means "not acceptable"; ties go to the order of
    ``OFFERED``. A malformed weight is ignored, as if it were absent."""
    if not accept or not accept.strip():
        return LD_JSON
    ranges = []
    for item in accept.split(","):
        kind, _, params = item.strip().partition(";")
        kind = kind.strip().lower()
        if kind.count("/") == 1:
            ranges.append((kind, _quality(params)))
    best, best_q = None, 0.0
    for offered in OFFERED:
        q = _weight_of(offered, ranges)
        if q > best_q:
            best, best_q = offered, q
    if best is None:
        raise NotAcceptable(OFFERED)
    return best


def _weight_of(offered: str, ranges: list[tuple[str, float]]) -> float:
    major = offered.split("/")[0]
    for pattern in (offered, f"{major}/*", "*/*"):
        weights = [q for kind, q in ranges if kind == pattern]
        if weights:
            return max(weights)
    return 0.0


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return 1.0
            return max(0.0, min(1.0, q)) if q == q else 1.0
    return 1.0


def entity_tags(header: str | None) -> list[str] | None:
    """The entity tags of an If-Match or If-None-Match value (RFC 9110 13.1.1), with
    ``*`` as its own member; None when the header is absent."""
    if header is None:
        return None
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def none_match(header: str | None, current: str | None) -> bool:
    """Whether If-None-Match (RFC 9110 13.1.2) holds: false when it is ``*`` and
    the resource exists, or when one of its tags is the current one (weakly)."""
    tags = entity_tags(header)
    if tags is None or current is None:
        return True
    if "*" in tags:
        return False
    return _opaque(current) not in {_opaque(t) for t in tags}


def match(header: str | None, current: str | None) -> bool:
    """Whether If-Match (RFC 9110 13.1.1) holds for a resource that exists:
    true when absent or ``*``, else only when one of its tags is ``current`` by
    strong comparison (a weak tag never matches). A resource without an ETag (a
    container) matches only ``*``."""
    tags = entity_tags(header)
    if tags is None or "*" in tags:
        return True
    return current is not None and not current.startswith("W/") and current in tags


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def range_applies(if_range: str | None, current: str | None) -> bool:
    """Whether Range may be served under If-Range (RFC 9110 13.1.5): always when
    If-Range is absent; otherwise only when it is an entity tag that is the current
    one by strong comparison. A weak tag, another tag, a date (the resource has no
    Last-Modified to compare it with) or anything else means the client holds
    another version: the whole resource is sent (200), never a part of this one to
    splice onto a part of that one."""
    if if_range is None:
        return True
    tag = if_range.strip()
    return (current is not None and not current.startswith("W/")
            and tag.startswith('"') and tag == current)


def to_turtle(document: dict[str, Any]) -> bytes:
    """Turtle from the expanded form: the shipped contexts expand it, so rdflib
    never sees a context and never fetches one (DESIGN.md invariant 6). rdflib is
    imported on the first Turtle request, so a server that serves none never
    loads it."""
    import rdflib

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
    the whole resource (no header, an invalid one, or several ranges, which a server
    may ignore). A valid range that selects no byte of the resource is refused with
    416: a first byte at or past the end, a suffix of zero bytes, any range of an
    empty resource (RFC 9110 14.1.1, 15.5.17)."""
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
        if length == 0 or size == 0:
            raise RangeNotSatisfiable(size)
        return max(0, size - length), size - 1
    start = int(first)
    if last and int(last) < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable(size)
    end = min(int(last), size - 1) if last else size - 1
    return start, end


class PodPathGuard:
    """Every address under the pods' prefix is checked before routing: a spelling
    that no route matches once decoded (``a%2Fb`` is ``a/b``) must be the same 400
    as one that does, not a 404 that tells it apart."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("path", "").startswith(POD_PREFIX):
            try:
                check_raw_path(scope.get("raw_path") or scope["path"].encode())
            except InvalidPath as exc:
                await domain_problem(exc)(scope, receive, send)  # as the handlers do
                return
        await self.app(scope, receive, send)
