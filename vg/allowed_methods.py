"""What a 405 answer names in ``Allow``: every method the resource supports
(RFC 9110 15.5.6 and 10.2.1), not only those of one route.

FastAPI makes one route per path and method, and the router answers a known path
with an unknown method from the first route whose path matched, naming that
route's methods alone (``POST /pod/werkcontext`` said ``Allow: GET`` while PUT is
supported too). So the application records each route's path and methods as it
includes the routers (``include``), and the 405 answers, API and pages alike, name
the methods of every route whose path matches.

A path whose routes take GET takes HEAD as well (``head_requests``), so ``Allow``
names HEAD wherever it names GET.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.routing import compile_path

ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_REFUSAL = "_vg_refuses_its_method"


def refusal(endpoint: Callable) -> Callable:
    """Mark a route that exists only to refuse its method with a more telling 405:
    that method is not one the resource supports."""
    setattr(endpoint, _REFUSAL, True)
    return endpoint


def is_refusal(endpoint: Callable) -> bool:
    return getattr(endpoint, _REFUSAL, False)


class MethodTable:
    """Path patterns with the methods their routes take."""

    def __init__(self) -> None:
        self._routes: list[tuple[re.Pattern, frozenset[str]]] = []

    def add(self, router: APIRouter, prefix: str = "") -> None:
        for route in router.routes:
            methods = getattr(route, "methods", None)
            path = getattr(route, "path", None)
            if not methods or path is None or is_refusal(route.endpoint):
                continue
            pattern, _, _ = compile_path(prefix + path)
            self._routes.append((pattern, frozenset(methods)))

    def declared(self, path: str) -> set[str]:
        """The methods the routes whose pattern matches ``path`` declare."""
        found: set[str] = set()
        for pattern, methods in self._routes:
            if pattern.match(path):
                found |= methods
        return found

    def answers_head_as_get(self, path: str) -> bool:
        """Whether a HEAD request to ``path`` is answered by its GET route: its
        routes take GET and none of them takes HEAD itself."""
        declared = self.declared(path)
        return "GET" in declared and "HEAD" not in declared

    def allowed(self, path: str) -> list[str]:
        found = self.declared(path)
        if "GET" in found:
            found.add("HEAD")
        return sorted(found, key=lambda m: (ORDER.index(m) if m in ORDER
                                            else len(ORDER), m))


def include(app: FastAPI, router: APIRouter, prefix: str = "", **options: Any) -> None:
    """``app.include_router``, with the router's methods recorded for ``Allow``."""
    app.include_router(router, prefix=prefix, **options)
    table = getattr(app.state, "allowed_methods", None)
    if table is None:
        table = app.state.allowed_methods = MethodTable()
    table.add(router, prefix)


def allow_header(request: Request) -> dict[str, str]:
    """The ``Allow`` of a 405 answer to ``request``; empty when nothing is known
    of its path (the framework's own header then stands)."""
    table = getattr(request.app.state, "allowed_methods", None)
    methods = table.allowed(request.url.path) if table is not None else []
    return {"Allow": ", ".join(methods)} if methods else {}
