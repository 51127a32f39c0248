"""If-Match on the API's writes: evaluated where the resource has an entity tag
(the pod's Workcontext and binaries, pod_resources), refused everywhere else.

RFC 9110 13.1.1 says a server that receives If-Match must evaluate it before it
performs the method. A grant, an assignment, a choice or a setting has no ETag, so
no condition a client sends can be evaluated on it; performing the write anyway
would tell the client that its precondition held. Such a request is refused (400)
and nothing changes; the client sends it again without the header, knowing that
the write is not conditional.
"""

from __future__ import annotations

import inspect
from functools import lru_cache

from fastapi import Request

from .bounded_json import InvalidBody

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def if_match_evaluated(request: Request) -> None:
    """Refuse If-Match on a write whose route does not evaluate it; a route
    evaluates it when it takes the header as its ``if_match`` parameter."""
    if request.method not in WRITES or "if-match" not in request.headers:
        return
    endpoint = request.scope.get("endpoint")
    if endpoint is not None and evaluates_if_match(endpoint):
        return
    raise InvalidBody(400, "invalid-input", [
        "header.if-match: this resource has no entity tag, so the condition can "
        "not be evaluated; send the request without If-Match"])


@lru_cache(maxsize=None)
def evaluates_if_match(endpoint) -> bool:
    return "if_match" in inspect.signature(endpoint).parameters
