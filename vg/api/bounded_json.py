"""Every typed JSON body is parsed by the bounded parser, not the framework's.

The framework parses a JSON body with ``json.loads`` before any dependency runs: a
body nested thousands of levels deep reached its recursion limit and came back as a
bare ``http-400``, and a member named twice kept its last value. Routes of this
class hand the framework a request whose ``json()`` is ``schemas.parse_bounded``
(size, depth, node count, duplicate member names, forbidden characters), so every
such body is refused the same way, as ``invalid-input``, before a handler runs.
"""

from __future__ import annotations

from typing import Any, Callable

from fastapi import HTTPException, Request
from fastapi.routing import APIRoute

from schemas import SchemaError, parse_bounded


class InvalidBody(HTTPException):
    """A JSON body the bounded parser refused; rendered as ``invalid-input``
    (an HTTP exception, because the framework turns any other error raised while
    it reads the body into a bare 400)."""

    def __init__(self, status: int, code: str, problems: list[str]) -> None:
        super().__init__(status, "; ".join(problems))
        self.code = code
        self.problems = problems


class BoundedJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = parse_bounded(await self.body())
            except SchemaError as exc:
                problems = list(getattr(exc, "problems", None) or [str(exc)])
                status = getattr(type(exc), "status", 400)
                code = "invalid-input" if status == 400 else type(exc).code
                raise InvalidBody(status, code, [_in_body(p) for p in problems]) from None
        return self._json


class BoundedJsonRoute(APIRoute):
    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def bounded(request: Request):
            return await handler(BoundedJsonRequest(request.scope, request.receive))

        return bounded


def _in_body(problem: str) -> str:
    """``body: ...``, as the framework's validation errors name where they are."""
    return "body: " + problem.removeprefix("body is ").removeprefix("body ")
