"""RFC 9457 problem details for every error, in one place.

Domain errors carry their own ``status`` and ``code``; this module only renders them.
Validation errors are 400 (NL API design rule /core/error-handling/invalid-input), and
anything unexpected is a 500 without a stack trace.
"""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from audit import AuditError
from consent import ConsentError
from pod import PodError
from registry import RegistryError
from schemas import SchemaError

from .allowed_methods import allow_header
from .api.bounded_json import InvalidBody

PROBLEM = "application/problem+json"
DOMAIN_ERRORS = (SchemaError, ConsentError, PodError, RegistryError, AuditError)
log = logging.getLogger("vg.problems")


def problem(status: int, code: str, title: str, detail: str | None = None,
            **extra) -> Response:
    body = {"type": f"https://w3id.org/virtuele-gemeente/problems/{code}",
            "title": title, "status": status, "code": code}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return Response(json.dumps(body, ensure_ascii=False), status_code=status,
                    media_type=PROBLEM)


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> Response:
        errors = [_describe(e) for e in exc.errors()]
        return problem(400, "invalid-input", "Invalid input", "; ".join(errors),
                       errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if isinstance(exc, InvalidBody):
            return problem(exc.status_code, exc.code, "Invalid input", exc.detail,
                           errors=exc.problems)
        response = problem(exc.status_code, f"http-{exc.status_code}", str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:  # every method of the resource, not one route's
            response.headers.update(allow_header(request))
        return _challenged(response)

    for kind in DOMAIN_ERRORS:
        app.add_exception_handler(kind, _domain)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> Response:
        log.error("unexpected error: %s", type(exc).__name__)
        return problem(500, "internal-error", "Internal error")


async def _domain(_: Request, exc: Exception) -> Response:
    return domain_problem(exc)


def error_problem(exc: Exception) -> Response:
    """The answer the application's handlers give for ``exc``, for a component that
    answers without the framework (vg/api/pod_fast_write.py)."""
    if isinstance(exc, DOMAIN_ERRORS):
        return domain_problem(exc)
    log.error("unexpected error: %s", type(exc).__name__)
    return problem(500, "internal-error", "Internal error")


def domain_problem(exc: Exception) -> Response:
    # Status and code are read from the class: an instance attribute of the same name
    # (a field the error reports) must never change the HTTP answer.
    status = getattr(type(exc), "status", 500)
    code = getattr(type(exc), "code", "internal-error")
    if status >= 500:
        log.error("request failed: %s", type(exc).__name__)
    extra = {}
    if getattr(exc, "problems", None):
        extra["errors"] = list(exc.problems)
    extra.update(getattr(exc, "problem_members", None) or {})  # RFC 9457 3.2
    response = problem(status, code, title_of(code), str(exc), **extra)
    response.headers.update(getattr(exc, "response_headers", None) or {})
    return _challenged(response)


def title_of(code: str) -> str:
    """The short summary of a problem type (RFC 9457 3.1.3), the same for every
    occurrence of it: the code in words, ``invalid-path`` is "Invalid path"."""
    return code.replace("-", " ").capitalize()


def _challenged(response: Response) -> Response:
    """A 401 says how to authenticate (RFC 9110 11.6.1): every route of the API
    takes a bearer token, an API key or a holder session."""
    if response.status_code == 401 and "www-authenticate" not in response.headers:
        response.headers["WWW-Authenticate"] = 'Bearer realm="virtuele-gemeente"'
    return response


def _describe(error: dict) -> str:
    if error.get("type") == "json_invalid":  # its location is a character offset
        return "body: not valid JSON"
    where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
    return f"{where or 'body'}: {error.get('msg', 'invalid')}"
