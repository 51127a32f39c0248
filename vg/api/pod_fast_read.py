"""The hot read, ``GET /api/v1/pods/<pod id>/werkcontext``, answered without the
framework's routing and dependency injection.

Profiling the pod under load (py-spy, 64 connections) put about two thirds of every
read in route matching, dependency solving and response plumbing, and a third in the
pod itself. This component answers the plain successful case itself, with the same
checks in the same order as the route (pod_resources.read_workcontext): the raw path,
the holder's session, the pod that session opens, the pod id in the path, content
negotiation. Anything else (no session or a bad one, another pod, Turtle, HEAD, a
query string, a conditional request, no Workcontext yet, any error at all) goes to the full application unchanged, so every
refusal is the route's own problem+json answer. A test holds the two answers equal.
It runs before the framework and the middleware stack (``vg.app.Application``): a
request with a header sent twice or a declared body over the cap is left to the
stack, and its answers carry the stack's security headers.
"""

from __future__ import annotations

from datetime import datetime, timezone

from pod import PodError

from ..middleware import MAX_BODY, SECURITY_HEADERS, plainly_within_limits
from .pod_http import LD_JSON, WORKCONTEXT_PATH, check_raw_path, negotiate

_SESSION = "Bearer vgs_"


class FastWorkcontextRead:
    """``app`` takes what this leaves; ``application`` holds the system, for a
    request that has not passed the framework (which names it in the scope)."""

    def __init__(self, app, application=None):
        self.app = app
        self.application = application

    async def __call__(self, scope, receive, send):
        # A query string is the route's to refuse (it takes no parameter).
        if scope["type"] == "http" and scope["method"] == "GET" \
                and not scope.get("query_string") \
                and plainly_within_limits(scope, MAX_BODY):
            match = WORKCONTEXT_PATH.match(scope.get("path", ""))
            try:
                answer = self._answer(scope, match.group(1)) if match else None
            except Exception:  # a read changes nothing: the route meets it again
                answer = None
            if answer is not None:
                await _send(send, *answer)
                return
        await self.app(scope, receive, send)

    def _answer(self, scope, pod_id: str) -> tuple[bytes, str, str] | None:
        """(body, media type, ETag), or None to leave the request to the route."""
        app = scope.get("app") or self.application
        headers = _headers(scope)
        token, accept = headers.get(b"authorization"), headers.get(b"accept")
        if app is None or token is None or not token.startswith(_SESSION):
            return None
        system = app.state.system
        clock = getattr(app.state, "clock", None)
        now = clock() if clock else datetime.now(timezone.utc)
        try:
            check_raw_path(scope.get("raw_path") or scope["path"].encode())
            kind = negotiate(accept)
            if kind not in (LD_JSON, "application/json"):
                return None
            session = system.sessions.opened(token[len(_SESSION):].strip(), now)
            if system.pods.pod_id(session.did) != pod_id:
                return None
            pod = system.pods.open_with_key(session.did, session.passkey, now,
                                            until=session.expires)
        except PodError:
            return None
        try:
            current = pod.workcontext_json_with_etag()
        except PodError:
            return None
        finally:
            pod.lock()
        if current is None:
            return None
        return current[0], kind, current[1]


_CONDITIONAL = frozenset({b"if-none-match", b"if-match", b"if-modified-since",
                          b"if-unmodified-since", b"if-range", b"range"})


def _headers(scope) -> dict[bytes, str]:
    """The two headers this needs; a repeated one, or any conditional request
    (which may answer 304 or 412), leaves the request to the route."""
    found: dict[bytes, str] = {}
    for name, value in scope.get("headers", []):
        if name in _CONDITIONAL:
            return {}
        if name in (b"authorization", b"accept"):
            if name in found:
                return {}
            found[name] = value.decode("latin-1")
    return found


async def _send(send, body: bytes, media_type: str, etag: str) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-length", str(len(body)).encode("ascii")),
        (b"content-type", media_type.encode("ascii")),
        (b"vary", b"Accept"),
        (b"etag", etag.encode("ascii")),
        *SECURITY_HEADERS,
    ]})
    await send({"type": "http.response.body", "body": body})
