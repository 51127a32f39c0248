"""The one FastAPI application: the API under /api/v1, OpenAPI at /api/v1/openapi.json."""

from __future__ import annotations

import logging
from typing import Callable

from fastapi import FastAPI

from . import problems
from .api import dpo, holder, inbox, organisation
from .middleware import API_VERSION, HeadersAndLimits
from .settings import Settings
from .wiring import System, build_system

log = logging.getLogger("vg.app")


def create_app(settings: Settings | None = None, system: System | None = None,
               clock: Callable | None = None) -> FastAPI:
    system = system or build_system(settings or Settings())
    app = FastAPI(
        title="Virtuele Gemeente API",
        version=API_VERSION,
        description="Werkcontext-pods, toestemmingen, matching en het toegangslogboek.",
        contact={"name": "Virtuele Gemeente", "url": "https://w3id.org/virtuele-gemeente"},
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.system = system
    app.state.clock = clock
    problems.install(app)
    for module in (holder, inbox, organisation, dpo):
        app.include_router(module.router, prefix="/api/v1")
    app.add_middleware(HeadersAndLimits)
    return app
