"""Errors on the web pages are pages, errors on the API stay problem details.

The API's handlers (``vg.problems``) are kept for every path under ``/api/``; on a
page, a missing session leads to the sign-in page, a refused CSRF token, a form
value the page refuses (``FormError``) or a domain error to an error page in the
visitor's language that says what was wrong and changed nothing."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ..allowed_methods import allow_header
from ..problems import DOMAIN_ERRORS
from .auth import CsrfRejected, LoginRequired
from .refusals import FormError
from .render import page, redirect

log = logging.getLogger("vg.web")


def install(app: FastAPI, api_prefix: str) -> None:
    for kind in (*DOMAIN_ERRORS, RequestValidationError, StarletteHTTPException):
        original = app.exception_handlers.get(kind)
        app.add_exception_handler(kind, _dispatch(original, api_prefix))

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _: LoginRequired) -> Response:
        to = "/organisatie/inloggen" if request.url.path.startswith(
            ("/organisatie", "/fg")) else "/inloggen"
        return redirect(to, "session-ended")

    @app.exception_handler(FormError)
    async def _form(request: Request, exc: FormError) -> Response:
        """A value an action needs was missing or wrong: nothing was done."""
        return page(request, "error.html", status=400, error="error.invalid",
                    detail=exc, back=_back(request, 400))

    @app.exception_handler(CsrfRejected)
    async def _csrf(request: Request, _: CsrfRejected) -> Response:
        log.info("form refused: no valid CSRF token")
        return page(request, "error.html", status=403, error="error.csrf", detail=None,
                    back=_back(request, 403))


def _dispatch(original, api_prefix: str):
    async def handle(request: Request, exc: Exception) -> Response:
        if request.url.path.startswith(api_prefix) or original is None:
            return await original(request, exc)
        status, key, detail = _describe(exc)
        response = page(request, "error.html", status=status, error=key,
                        detail=detail, back=_back(request, status))
        if status == 405:
            response.headers.update(allow_header(request))
        # The headers the error's answer carries on the API carry on a page too
        # (a 416's Content-Range, RFC 9110 14.4; a 429's Retry-After).
        response.headers.update(getattr(exc, "response_headers", None) or {})
        return response
    return handle


_SECTIONS = (("/organisatie", "/organisatie/inloggen"), ("/fg", "/organisatie/inloggen"),
             ("/mijn", "/inloggen"))


def _back(request: Request, status: int) -> str:
    """Where "back" leads: the start of the section the request was in, never the
    address as typed (it may name another site, or a form that only takes a POST);
    after a refused sign-in or session, its sign-in page."""
    path = request.url.path
    for prefix, sign_in in _SECTIONS:
        if path == prefix or path.startswith(prefix + "/"):
            return sign_in if status == 401 else prefix
    return "/"


def _describe(exc: Exception) -> tuple[int, str, Exception | None]:
    if isinstance(exc, RequestValidationError):
        return 400, "error.invalid", None
    if isinstance(exc, StarletteHTTPException):
        return exc.status_code, f"error.http_{exc.status_code}" if exc.status_code in (
            404, 405) else "error.generic", None
    status = getattr(type(exc), "status", 500)
    if status >= 500:
        return status, "error.generic", None
    # Domain errors name the field that is wrong, never a value someone entered.
    return status, "error.refused", exc
