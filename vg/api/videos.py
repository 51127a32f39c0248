"""Intro videos holders shared with organisations under a grant of ``intro_video``:
served from the registry's copy through the consent gate, with byte ranges (RFC
9110 14) so a player can scrub, each access logged before the first byte leaves.
Each organisation asks by its own address of a copy (vg/org_names.py,
``workcontext_for``); any other address is a video that is not there."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Request, Response
from starlette.responses import StreamingResponse

from registry import Requester
from registry.video_shares import StoredShare

from ..wiring import System
from .bounded_json import BoundedJsonRoute
from .deps import NowDep, RequesterDep, SystemDep, TraceDep
from .pod_http import parse_range

ADDRESS_MAX = 64

router = APIRouter(tags=["introductievideo"], route_class=BoundedJsonRoute)
# An organisation's address of a copy (registry/org_pseudonyms.py): anything
# else, the bare share id included, is answered 404 like an ended share.
Address = Annotated[str, Path(max_length=ADDRESS_MAX)]
RangeHeader = Annotated[str | None, Header(alias="Range", max_length=200)]
Purpose = Literal["matching", "teamwork", "knowledge_sharing"]


@router.get("/introductievideos/{address}")
def intro_video(address: Address, request: Request, requester: RequesterDep,
                system: SystemDep, now: NowDep, trace: TraceDep,
                range_: RangeHeader = None,
                purpose: Purpose = Query(default="matching")) -> Response:
    """The video at the requesting organisation's ``address``, if a live grant
    for ``purpose`` whose audience holds that organisation shares it; 404
    ``video-not-found`` otherwise."""
    return watched(system, requester, address, purpose, now, trace, range_,
                   head=request.method == "HEAD")


def watched(system: System, requester: Requester, address: str, purpose: str, now,
            trace: str, range_: str | None, head: bool = False) -> Response:
    """The answer for a video at the organisation's ``address`` (the API's and
    the web pages' route): the access is logged, then the range checked (a 416
    tells the size), then the bytes streamed."""
    stored, wanted = system.registry.videos.watch(
        requester, address, purpose, now, trace,
        check=lambda found: parse_range(range_, found.size))
    return _streamed(system, stored, wanted, head)


def _streamed(system: System, stored: StoredShare, wanted: tuple[int, int] | None,
              head: bool) -> Response:
    start, end = wanted if wanted else (0, stored.size - 1)
    headers = {"Accept-Ranges": "bytes", "Content-Length": str(end - start + 1),
               "Cache-Control": "no-store"}
    status = 200
    if wanted is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{stored.size}"
    if head:
        return Response(status_code=status, headers=headers,
                        media_type=stored.media_type)
    chunks = system.registry.videos.shares.read_range(stored, start, end)
    return StreamingResponse(chunks, status_code=status, headers=headers,
                             media_type=stored.media_type)
