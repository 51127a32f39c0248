"""Every typed JSON body is parsed by the bounded parser, not the framework's.

The framework parses a JSON body with ``json.loads`` before any dependency runs: a
body nested thousands of levels deep reached its recursion limit and came back as a
bare ``http-400``, and a member named twice kept its last value. Routes of this
class hand the framework a request whose ``json()`` is ``schemas.parse_bounded``
(size, depth, node count, duplicate member names, forbidden characters), so every
such body is refused the same way, as ``invalid-input``, before a handler runs.

The framework also passes over query parameters a route does not take, so a
filter under a wrong name (``doel`` for ``purpose``) answered with the unfiltered
rows, and a filter given twice kept one of its values. Routes of this class, and
of ``QueryCheckedRoute`` (routes that read their bodies themselves: the pod's
resources, binaries), refuse both as ``invalid-input``, naming the parameters
they do take. A test holds every route under ``/api/v1`` to one of the two.

Every query value is held to the rule of every text in a body
(``schemas.holds_forbidden_characters``: no control, lone surrogate or direction
character) before the route runs, so a free-text search (a team's ``zoek``) can
not carry text that disguises what surrounds it where it is shown again.
"""

from __future__ import annotations

from typing import Any, Callable

from fastapi import HTTPException, Request
from fastapi.routing import APIRoute

from schemas import SchemaError, holds_forbidden_characters, parse_bounded


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


class QueryCheckedRoute(APIRoute):
    """Refuses a query parameter the route does not take, or one it takes once
    given twice, before the handler runs."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()
        single, repeatable = _query_names(self)

        async def checked(request: Request):
            _check_query(request, single, repeatable)
            return await handler(self.wrap_request(request))

        return checked

    def wrap_request(self, request: Request) -> Request:
        return request


class BoundedJsonRoute(QueryCheckedRoute):
    def wrap_request(self, request: Request) -> Request:
        return BoundedJsonRequest(request.scope, request.receive)


def _query_names(route: APIRoute) -> tuple[frozenset[str], frozenset[str]]:
    """The query parameters the route takes once, and those it takes as a list."""
    params, dependants = [], [route.dependant]
    while dependants:
        dependant = dependants.pop()
        params += dependant.query_params
        dependants += dependant.dependencies
    repeatable = {p.alias for p in params if _is_list(p.field_info.annotation)}
    return frozenset(p.alias for p in params) - repeatable, frozenset(repeatable)


def _is_list(annotation: Any) -> bool:
    origin = getattr(annotation, "__origin__", None)
    return origin in (list, tuple, set, frozenset) or any(
        _is_list(a) for a in getattr(annotation, "__args__", ()) if a is not annotation)


def _check_query(request: Request, single: frozenset[str],
                 repeatable: frozenset[str]) -> None:
    items = request.query_params.multi_items()
    names = [name for name, _ in items]
    unknown = sorted(set(names) - single - repeatable)
    twice = sorted({name for name in names if name in single and names.count(name) > 1})
    if not unknown and not twice:
        _check_query_texts(items)
        return
    taken = ", ".join(sorted(single | repeatable)) or "none"
    problems = [f"query.{name[:60]}: unknown query parameter (this route takes: "
                f"{taken})" for name in unknown[:5]]
    problems += [f"query.{name}: given more than once" for name in twice]
    raise InvalidBody(400, "invalid-input", problems)


def _check_query_texts(items: list[tuple[str, str]]) -> None:
    """Refuse a value (of a parameter the route takes) holding a character no
    text of this project may hold; the value is not repeated."""
    held = sorted({name for name, value in items if holds_forbidden_characters(value)})
    if held:
        raise InvalidBody(400, "invalid-input", [
            f"query.{name}: {FORBIDDEN_MUST}" for name in held])


FORBIDDEN_MUST = ("must not hold control characters, lone surrogates or "
                  "bidirectional override characters")


def _in_body(problem: str) -> str:
    """``body: ...``, as the framework's validation errors name where they are."""
    return "body: " + problem.removeprefix("body is ").removeprefix("body ")


# The same refusal for a route outside this class that answers JSON (the skill
# search of the web pages, vg/web/skills.py).
check_query = _check_query
