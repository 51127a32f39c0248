"""Headers on every response, and a cap on request bodies before they are read.

- ``API-Version`` (NL API design rule /core/version-header) on every response.
- The security headers of /core/transport/security-headers. The API's content
  security policy allows nothing; the web pages' allows the application's own
  scripts, styles and images only (no inline script or style, no ``eval``), and
  forms that post to the application itself.
- A request that sends ``Authorization`` or ``Content-Type`` twice is refused
  (400): neither may be a list (RFC 9110 5.3), and a proxy in front could act on
  the other one than this server does.
- Bodies larger than ``max_body`` are refused with 413 while streaming in, so an
  oversized upload costs no memory (bound every input). ``limit_for`` may name a
  larger cap for a path (a streamed binary upload, an archive import).
"""

from __future__ import annotations

import json
import logging

log = logging.getLogger("vg.middleware")
API_VERSION = "1.0.0"
SECURITY_HEADERS = [
    (b"api-version", API_VERSION.encode()),
    (b"cache-control", b"no-store"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"strict-transport-security", b"max-age=31536000"),
    (b"referrer-policy", b"no-referrer"),
]
WEB_CSP = (b"default-src 'none'; script-src 'self'; style-src 'self'; "
           b"img-src 'self' data:; media-src 'self'; connect-src 'self'; "
           b"form-action 'self'; "
           b"base-uri 'none'; frame-ancestors 'none'")
WEB_HEADERS = [(name, WEB_CSP if name == b"content-security-policy" else value)
               for name, value in SECURITY_HEADERS]
API_PREFIX = "/api/"
MAX_BODY = 256 * 1024  # the default cap on a request body


class HeadersAndLimits:
    def __init__(self, app, max_body: int = MAX_BODY, limit_for=None):
        self.app = app
        self.max_body = max_body
        self.limit_for = limit_for or (lambda path: None)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        max_body = self.limit_for(path) or self.max_body
        headers = SECURITY_HEADERS if path.startswith(API_PREFIX) else WEB_HEADERS
        twice = _named_twice(scope)
        if twice:
            return await _problem(send, 400, "duplicate-header", "Header sent twice",
                                  f"{twice} must be sent once")
        if _declared_length(scope) > max_body:
            return await _too_large(send, max_body)
        seen = 0
        started = False
        too_large = False

        async def limited_receive():
            nonlocal seen, too_large
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > max_body:
                too_large = True
                raise _BodyTooLarge()
            return message

        async def with_headers(message):
            nonlocal started
            if too_large:
                # The application caught the signal and answered on its own (a
                # framework reports "error parsing the body"): the answer is 413.
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _too_large(send, max_body)
                return
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = with_missing(message.get("headers", []), headers)
            await send(message)

        try:
            await self.app(scope, limited_receive, with_headers)
        except _BodyTooLarge:
            if not started:
                await _too_large(send, max_body)
        except Exception as exc:  # the last line of defence: never a stack trace
            log.error("unhandled error: %s", type(exc).__name__)
            if not started:
                await _problem(send, 500, "internal-error", "Internal error", None)


def plainly_within_limits(scope, max_body: int) -> bool:
    """Whether ``HeadersAndLimits`` lets the request through as it stands: no
    header it refuses when sent twice, and no declared body above ``max_body``.
    A component that answers before it (``vg.app``) leaves any other request to
    it."""
    return _named_twice(scope) is None and _declared_length(scope) <= max_body


async def internal_error(send) -> None:
    """The answer ``HeadersAndLimits`` gives to an error nobody handled."""
    await _problem(send, 500, "internal-error", "Internal error", None)


def with_missing(own, added) -> list:
    """A response's headers and those of ``added`` it does not set itself: a
    route that sets one (an intro video's ``Cache-Control``) sends it once."""
    own = list(own)
    names = {name.lower() for name, _ in own}
    return own + [(name, value) for name, value in added if name not in names]


class _BodyTooLarge(Exception):
    pass


SINGLE_HEADERS = (b"authorization", b"content-type")


def _named_twice(scope) -> str | None:
    names = [name for name, _ in scope.get("headers", []) if name in SINGLE_HEADERS]
    for name in SINGLE_HEADERS:
        if names.count(name) > 1:
            return name.decode()
    return None


def _declared_length(scope) -> int:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


async def _too_large(send, limit: int) -> None:
    await _problem(send, 413, "request-too-large", "Request too large",
                   f"request bodies are limited to {limit} bytes")


async def _problem(send, status: int, code: str, title: str, detail: str | None):
    problem = {"type": f"https://w3id.org/virtuele-gemeente/problems/{code}",
               "title": title, "status": status, "code": code}
    if detail:
        problem["detail"] = detail
    body = json.dumps(problem).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode())]
                + SECURITY_HEADERS})
    await send({"type": "http.response.body", "body": body})
