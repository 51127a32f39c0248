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

A HEAD request handed on as GET costs what the GET costs, and is what a GET is to
the rest of the application: the same checks, and the same audit entry where the
GET discloses personal data (the answer's headers describe that data too).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


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
            scope = {**scope, "method": "GET"}
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
