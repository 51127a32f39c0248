"""The one FastAPI application: the API under /api/v1, OpenAPI at /api/v1/openapi.json,
and the web pages for people (``vg.web``) on the same application."""

from __future__ import annotations

import asyncio
import logging
import sys
from contextlib import asynccontextmanager, suppress
from datetime import datetime, timedelta, timezone
from typing import AsyncIterator, Callable

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from registry import HeadersOnly

from . import problems
from .allowed_methods import include
from .api import consent, dpo, holder, inbox, organisation, pod_resources, pod_rights
from .api import employment, feed, groups, swipes, teams, videos
from .api.bounded_json import QueryCheckedRoute
from .api.deps import json_only
from .api.preconditions import if_match_evaluated
from .api.pod_fast_read import FastWorkcontextRead
from .api.pod_fast_write import FastWorkcontextWrite
from .api.pod_http import PodPathGuard
from .head_requests import HeadAsGet, headers_only_answer
from .middleware import API_VERSION, HeadersAndLimits
from .settings import Settings, SettingsInvalid, load_settings
from .web import body_limit as web_body_limit
from .web import install as install_web
from .wiring import System, build_system

log = logging.getLogger("vg.app")
PURGE_INTERVAL_SECONDS = 60
PRUNE_EVERY = 60  # purge rounds: the audit retention is applied once an hour


@asynccontextmanager
async def _purge_expired_every_minute(app: FastAPI) -> AsyncIterator[None]:
    """Expired grants' data is deleted within a minute even when nobody searches
    (GDPR art. 5(1)(e)); every read purges too, so a query never sees it. In the
    same round, withdrawals the registry could not take when they were made are
    sent again (vg/withdrawal_outbox.py)."""

    async def loop() -> None:
        rounds = 0
        while True:
            await asyncio.sleep(PURGE_INTERVAL_SECONDS)
            rounds += 1
            try:
                now = (app.state.clock or _utc_now)()
                system = app.state.system
                await run_in_threadpool(system.withdrawals.deliver_all,
                                        system.registry, now)
                await run_in_threadpool(app.state.system.registry.gate.purge_expired, now)
                # Keys kept for sessions that ended or pods changed elsewhere.
                await run_in_threadpool(system.pods.forget_stale, now)
                # The files of intro video copies whose grants just expired.
                await run_in_threadpool(app.state.system.registry.sweep_videos)
                if rounds % PRUNE_EVERY == 0:
                    await run_in_threadpool(_prune_audit_log, app.state.system, now)
            except Exception as exc:  # keep purging after a transient failure
                log.error("purge of expired disclosures failed: %s", type(exc).__name__)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task  # a purge round in a thread ends before the system closes
        if app.state.owns_system:  # built by create_app: closed with the app
            await run_in_threadpool(app.state.system.close)


def _prune_audit_log(system: System, now: datetime) -> None:
    """Retention of the access log (GDPR art. 5(1)(e), BIO 8.15.04)."""
    before = now - timedelta(days=system.settings.audit_retention_days)
    system.audit.prune(before, now)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Application(FastAPI):
    """The FastAPI application, with the pod's hot Workcontext read and write
    (``early``) answered before the framework and the middleware stack.

    Under PUT load the layers a request passes before the fast write (FastAPI's
    telemetry check, which reads the environment on every request, Starlette's
    error layer, the framework's body limit, then ours) took about a tenth of the
    process's time. ``early`` applies what they apply to such a request itself:
    a header sent twice or a declared body over the cap goes to the stack, a body
    is read up to the cap only, its own answers carry the security headers, and
    an error it did not handle is the stack's 500 problem. Every other request,
    and every one it leaves, goes through the stack as before.

    Known shortcoming: FastAPI's OpenTelemetry spans are not made for the
    requests ``early`` answers itself; a deployment that traces needs
    ``fast_paths=False`` until the check that tracing is on costs less.
    """

    early: Callable | None = None

    async def __call__(self, scope, receive, send) -> None:
        if self.early is not None and scope["type"] == "http":
            await self.early(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def stack(self, scope, receive, send) -> None:
        """The framework and every middleware, as for any request."""
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, system: System | None = None,
               clock: Callable | None = None, fast_paths: bool = True) -> FastAPI:
    owns_system = system is None
    system = system or build_system(settings or load_settings())
    app = Application(
        lifespan=_purge_expired_every_minute,
        title="Virtuele Gemeente API",
        version=API_VERSION,
        description="Werkcontext-pods, toestemmingen, matching en het toegangslogboek.",
        contact={"name": "Virtuele Gemeente", "url": "https://w3id.org/virtuele-gemeente"},
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    # No redirect to the other spelling of a path: it would be built from the
    # request's Host header, which the caller chooses. One spelling per resource.
    app.router.redirect_slashes = False
    app.state.system = system
    app.state.owns_system = owns_system
    app.state.clock = clock
    problems.install(app)
    # Every body is JSON except on the pod's resources, where a binary takes any
    # media type and a patch is a merge patch; those routes check their own. Typed
    # JSON bodies are parsed by the bounded parser (their routers' route class,
    # ``api.bounded_json``); the pod's resources parse their own (strict JSON-LD,
    # or streamed binaries).
    for module in (consent, holder, inbox, organisation, employment, dpo, swipes,
                   feed, teams, groups, pod_rights, videos):
        include(app, module.router, prefix="/api/v1",
                dependencies=[Depends(json_only), Depends(if_match_evaluated)])
    include(app, pod_resources.router, prefix="/api/v1")
    if fast_paths:
        app.early = FastWorkcontextRead(FastWorkcontextWrite(app.stack, app), app)
    app.add_middleware(PodPathGuard)
    install_web(app)
    app.add_exception_handler(
        HeadersOnly, lambda request, _: headers_only_answer(request, "/api/"))
    app.add_middleware(HeadersAndLimits, limit_for=_body_limit)
    app.add_middleware(HeadAsGet)
    app.openapi = lambda: _openapi(app)
    _serve_openapi_checked(app)
    return app


def _serve_openapi_checked(app: FastAPI) -> None:
    """The OpenAPI document on a route that refuses query parameters like every
    other route under /api/v1: the framework's own route takes any."""
    path = app.openapi_url
    app.router.routes[:] = [route for route in app.router.routes
                            if getattr(route, "path", None) != path]
    router = APIRouter(route_class=QueryCheckedRoute)

    router.add_api_route(path, _openapi_document, methods=["GET", "HEAD"],
                         include_in_schema=False)
    app.include_router(router)


def _openapi_document(request: Request) -> JSONResponse:
    # A module function, not a closure over the application: FastAPI keeps the
    # callables of routes in process-wide caches, and a closure there would keep
    # every application (and its databases) alive after it is closed.
    return JSONResponse(request.app.openapi())


def app_from_environment() -> FastAPI:
    """The application with settings from ``VG_*`` variables: the factory each
    worker process imports when the server runs several (``vg serve --workers``).
    Pods, keys and sessions live on disk and every pod write takes a file lock, so
    workers share nothing in memory; the parent builds the databases first."""
    try:
        settings = load_settings()
    except SettingsInvalid as exc:  # one line for the operator, not a traceback
        print(f"vg: setting {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    return create_app(settings)


def _openapi(app: FastAPI) -> dict:
    """The generated document, corrected to what the API does: invalid input is a 400
    problem (NL API design rule /core/error-handling/invalid-input), not a 422."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes,
                             description=app.description, contact=app.contact)
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                responses = operation.get("responses", {})
                if responses.pop("422", None) is not None:
                    responses["400"] = PROBLEM_RESPONSE
        schema.get("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
        schema.get("components", {}).get("schemas", {}).pop("ValidationError", None)
        app.openapi_schema = schema
    return app.openapi_schema


PROBLEM_RESPONSE = {
    "description": "Invalid input (RFC 9457 problem details, all errors at once)",
    "content": {"application/problem+json": {"schema": {"type": "object"}}},
}


def _body_limit(path: str) -> int | None:
    return (pod_resources.body_limit(path) or pod_rights.body_limit(path)
            or web_body_limit(path))
