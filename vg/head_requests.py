"""HEAD answered as GET without content, on every resource that answers GET (RFC
9110 9.3.2): the same status and header fields, Content-Length included, and no
content.

FastAPI gives a route the methods it declares and no more, so a HEAD request to a
route that declares GET alone met a 405. Rather than a second route beside every
GET, the request is handed on as GET when the application's method table
(``allowed_methods``) knows the path's routes take GET and none of them takes HEAD
itself: the pod's resources do, to answer without reading a file. Whatever answers,
the content is dropped here, so no HEAD answer carries any (a refusal's problem
document included), while its Content-Length still says how long it would be.

A HEAD request handed on as GET costs what the GET costs and passes the same
checks, but it is shown no personal data: it is marked (``HEAD_MARK``), its
requester is made ``headers_only``, and where the GET would disclose data the
gate stops it (``registry.HeadersOnly``) before anything is shown or logged. It is
then answered 200 without Content-Length, which would tell the data's size; a
HEAD is no disclosure, so it has no audit entry.
"""

from __future__ import annotations

import dataclasses

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from registry import Requester

HEAD_MARK = "vg.head"


class HeadAsGet:
    """The outermost of the application's own ASGI layers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        table = getattr(scope["app"].state, "allowed_methods", None)
        if table is not None and table.answers_head_as_get(scope["path"]):
            scope = {**scope, "method": "GET", HEAD_MARK: True}
        await self.app(scope, receive, _without_content(send))


# The messages that carry content: the body, and the ASGI extensions that send a
# file's bytes (a server offers them in ``scope["extensions"]``).
_CONTENT = frozenset({"http.response.body", "http.response.zerocopysend",
                      "http.response.pathsend"})


def _without_content(send: Send) -> Send:
    async def send_headers_only(message: Message) -> None:
        if message["type"] in _CONTENT:
            message = {"type": "http.response.body", "body": b"",
                       "more_body": message.get("more_body", False)}
        await send(message)

    return send_headers_only


def for_request(request: Request, requester: Requester) -> Requester:
    """The requester of ``request``: one that may see headers only for a HEAD."""
    if request.scope.get(HEAD_MARK):
        return dataclasses.replace(requester, headers_only=True)
    return requester


def headers_only_answer(request: Request, api_prefix: str) -> Response:
    """The answer to a HEAD that reached personal data: the GET's status and
    type, no Content-Length."""
    api = request.url.path.startswith(api_prefix)
    response = Response(status_code=200, media_type="application/json" if api
                        else "text/html")
    del response.headers["content-length"]
    return response
