"""The hot write, ``PUT /api/v1/pods/<pod id>/werkcontext``, answered without the
framework's routing and dependency injection.

A py-spy profile of the pod under PUT load (8 connections, one worker) showed the
process busy for about one core under its GIL, and about a quarter of the event
loop's samples in route matching, dependency solving and response plumbing. This component takes the plain
case itself, with the route's steps (pod_resources.replace_workcontext): a JSON
media type, the holder's session, the pod it opens, the pod id in the raw path, the
body as bounded JSON, every check of the document, then one stored version and its
ETag. ``If-Match`` is passed on as the route passes it.

Until the document has passed every check nothing has changed, so any refusal up to
there (a bad session, another pod, a bad body, a failed check) hands the request to
the full application with the body it sent, and the route gives its own answer. A
request with ``If-None-Match`` goes to the route unread. Once the store begins, an
error is answered here the way the application's handlers answer it (problems.py):
repeating a write that may have been stored would be wrong. A test holds the
answers of both paths equal.

It runs before the framework and the middleware stack (``vg.app.Application``), so
it applies their rules to what it takes itself: a header sent twice or a declared
body over the cap is left to the stack, a body is read up to the cap only, its
answers carry the security headers, and an error nothing handled is the 500 problem.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from starlette.concurrency import run_in_threadpool

from schemas import UnsupportedMediaType, parse_bounded

from .. import holder_flows
from ..middleware import (MAX_BODY, SECURITY_HEADERS, internal_error,
                          plainly_within_limits)
from ..problems import error_problem
from .deps import JSON_MEDIA_TYPES, SESSION_PREFIX, body_media_type
from .pod_http import WORKCONTEXT_PATH, check_raw_path
from .pod_resources import MAX_FIELD, saved_body
from .render import json_bytes

_BEARER = "bearer "
log = logging.getLogger("vg.api.pod_fast_write")


class FastWorkcontextWrite:
    """``app`` takes what this leaves; ``application`` holds the system, for a
    request that has not passed the framework (which names it in the scope)."""

    def __init__(self, app, application=None):
        self.app = app
        self.application = application

    async def __call__(self, scope, receive, send):
        # A query string is the route's to refuse (it takes no parameter).
        match = (WORKCONTEXT_PATH.match(scope.get("path", ""))
                 if scope["type"] == "http" and scope["method"] == "PUT"
                 and not scope.get("query_string") else None)
        headers = _headers(scope) if match else None
        if not headers or not plainly_within_limits(scope, MAX_BODY):
            await self.app(scope, receive, send)
            return
        messages = await _read_body(receive, MAX_BODY)
        body = b"".join(m.get("body", b"") for m in messages)
        if messages[-1]["type"] == "http.request" and len(body) <= MAX_BODY \
                and not messages[-1].get("more_body", False):
            started = False

            async def with_headers(message):
                nonlocal started
                if message["type"] == "http.response.start":
                    started = True
                    message["headers"] = [*message.get("headers", []),
                                          *SECURITY_HEADERS]
                await send(message)

            try:
                answer = await self._answer(scope, match.group(1), headers, body)
                if answer is not None:
                    await answer(scope, receive, with_headers)
                    return
            except Exception as exc:  # as the application's last line of defence
                log.error("unhandled error: %s", type(exc).__name__)
                if not started:
                    await internal_error(send)
                return
        await self.app(scope, _replay(messages, receive), send)

    async def _answer(self, scope, pod_id: str, headers: dict[bytes, str],
                      body: bytes):
        """The response, or None to leave the request (nothing changed) to the route."""
        app = scope.get("app") or self.application
        if app is None:
            return None
        system = app.state.system
        clock = getattr(app.state, "clock", None)
        now = clock() if clock else datetime.now(timezone.utc)
        try:
            check_raw_path(scope.get("raw_path") or scope["path"].encode())
            session = system.sessions.opened(headers[b"authorization"], now)
            if system.pods.pod_id(session.did) != pod_id:
                return None
            document = parse_bounded(body)
            pod = system.pods.open_with_key(session.did, session.passkey, now,
                                            until=session.expires)
        except Exception:  # the route refuses it with its own answer
            return None
        try:
            if isinstance(document, dict) and "ratingSummary" in document:
                # Its stored form reads the pod's inbox from disk: off the loop.
                return await run_in_threadpool(_save, system, pod, document, now,
                                               headers.get(b"if-match"))
            return await _save_on_loop(system, pod, document, now,
                                       headers.get(b"if-match"))
        finally:
            pod.lock()


async def _save_on_loop(system, pod, document, now: datetime, if_match: str | None):
    """The checks run here, on the loop (CPU only, under the GIL either way); the
    version waits for its batch without a thread, and only the batch's commit
    and a publication go to threads."""
    try:
        checked = holder_flows.checked_workcontext(system, pod, document,
                                                   parsed_bounded=True)
    except Exception:  # refused before anything changed: the route answers
        return None
    try:
        stored = await pod.store_version_async(checked, now, if_match)
        saved = holder_flows.nothing_to_publish(pod, stored, now)
        if saved is None:
            saved = await run_in_threadpool(holder_flows.publish_stored, system, pod,
                                            stored, now)
    except Exception as exc:
        return error_problem(exc)
    return _saved_answer(saved)


def _save(system, pod, document, now: datetime, if_match: str | None):
    try:
        checked = holder_flows.checked_workcontext(system, pod, document,
                                                   parsed_bounded=True)
    except Exception:  # refused before anything changed: the route answers
        return None
    try:
        saved = holder_flows.store_checked_workcontext(system, pod, checked, now,
                                                       if_match)
    except Exception as exc:
        return error_problem(exc)
    return _saved_answer(saved)


def _saved_answer(saved):
    """``saved_response`` as two ASGI messages, with the headers Starlette's
    response gives it (a test holds them equal); building and calling that
    response cost about 4 % of a write's CPU."""
    body = json_bytes(saved_body(saved))
    headers = [(b"content-length", str(len(body)).encode("ascii")),
               (b"content-type", b"application/json"),
               (b"etag", saved.etag.encode("latin-1"))]

    async def answer(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return answer


def _headers(scope) -> dict[bytes, str] | None:
    """The session token, and If-Match joined as the route joins it (RFC 9110 5.3);
    None leaves the request to the route: no holder session, no JSON body, a
    conditional header other than If-Match, or a header the route refuses."""
    found: dict[bytes, str] = {}
    matches: list[str] = []
    for name, value in scope.get("headers", []):
        if name in (b"if-none-match", b"if-modified-since", b"if-unmodified-since"):
            return None
        if name == b"if-match":
            matches.append(value.decode("latin-1"))
        elif name in (b"authorization", b"content-type"):
            if name in found:
                return None
            found[name] = value.decode("latin-1")
    token = found.get(b"authorization", "")
    try:
        media_type = body_media_type(found.get(b"content-type", ""))
    except UnsupportedMediaType:  # the route refuses it
        return None
    if token[:len(_BEARER)].lower() != _BEARER or media_type not in JSON_MEDIA_TYPES:
        return None
    token = token[len(_BEARER):].strip()
    if not token.startswith(SESSION_PREFIX):
        return None
    headers = {b"authorization": token[len(SESSION_PREFIX):]}
    if matches:
        joined = ", ".join(matches)
        if len(joined) > MAX_FIELD:
            return None
        headers[b"if-match"] = joined
    return headers


async def _read_body(receive, limit: int) -> list[dict]:
    """The messages of the request body up to its end, a disconnect, or the first
    that takes it past ``limit`` (whose refusal is ``HeadersAndLimits``' own)."""
    messages, seen = [], 0
    while True:
        message = await receive()
        messages.append(message)
        seen += len(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False) \
                or seen > limit:
            return messages


def _replay(messages: list[dict], receive):
    """A receive that gives the messages already read again, then the live ones."""
    pending = list(messages)

    async def replayed():
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
