"""The intro video on a candidate's card, for a project leader signed in with the
organisation's session: the same gate, ranges and audit log as the API's
``/introductievideos/{address}``, for the purpose of the card (matching)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Header, Request
from starlette.responses import Response

from consent.video_share import share_in
from registry import MATCHING, VideoNotFound

from ..api.deps import NowDep, SystemDep
from ..api.videos import ADDRESS_MAX, watched
from ..org_names import video_address
from ..wiring import System
from .auth import Organisation

router = APIRouter(include_in_schema=False)
PATH = "/organisatie/introductievideo/"


def card_video(system: System, organisation: str, profile) -> dict | None:
    """The player's address and type for a card whose profile shows the video
    (``organisation``'s own address of the registry's copy); None when it shows
    none."""
    named = profile.workcontext.get("introVideo")
    if "intro_video" not in profile.fields or not isinstance(named, dict):
        return None
    share = share_in(named.get("contentUrl"))
    if share is None:
        return None
    return {"src": PATH + video_address(system, organisation, share),
            "type": named.get("encodingFormat")}


@router.get(PATH + "{address}")
def intro_video(address: str, request: Request, requester: Organisation,
                system: SystemDep, now: NowDep,
                range_: Annotated[str | None, Header(alias="Range",
                                                     max_length=200)] = None
                ) -> Response:
    if len(address) > ADDRESS_MAX:
        raise VideoNotFound(address[:ADDRESS_MAX])
    return watched(system, requester, address, MATCHING, now, secrets.token_hex(16),
                   range_, head=request.method == "HEAD")
