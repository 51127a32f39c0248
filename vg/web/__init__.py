"""The web app for people who do not use a command line: server-rendered pages on
the same FastAPI application as the API, calling the same flows (the consent gate
and the audit log see no difference between a page and an API call).

Every action is a plain form POST that works without JavaScript; small external
scripts (``static/js``) add the skill picker's suggestions, swiping and the map
click. Styles and axe-core come from the npm registry at build time
(``npm ci && npm run build`` copies them to the git-ignored ``static/build``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import Depends, FastAPI
from starlette.staticfiles import StaticFiles

from ..allowed_methods import include
from ..secrets_store import server_secret
from . import errors, skills
from .auth import checked_query
from . import pages_dpo, pages_grants, pages_holder, pages_login, pages_org
from . import pages_org_video, pages_sharing, pages_team, pages_video, pages_work

STATIC = Path(__file__).parent / "static"
API_PREFIX = "/api/"


@dataclass(frozen=True)
class WebState:
    csrf_secret: bytes


def install(app: FastAPI) -> None:
    system = app.state.system
    app.state.web = WebState(server_secret(system.settings.data_dir, "csrf.key"))
    for module in (pages_login, pages_holder, pages_grants, pages_sharing, pages_team,
                   pages_video, pages_work, pages_org, pages_org_video,
                   pages_dpo):
        include(app, module.router, dependencies=[Depends(checked_query)])
    include(app, skills.router)  # a JSON route: its query is checked as the API's
    app.mount("/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    errors.install(app, API_PREFIX)


def body_limit(path: str) -> int | None:
    """The intro video's upload is larger than the default body cap."""
    return pages_video.body_limit(path)


__all__ = ["body_limit", "install"]
