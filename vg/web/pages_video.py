"""The holder's intro video: uploaded by the page's script as one streamed request
body, or without a script by the plain form (multipart, parsed as it streams in);
either way it is encrypted in chunks as it arrives, like the API's binary upload,
so no plaintext ever lands in a temporary file. Played back from the pod with byte
ranges. The Workcontext's ``introVideo`` then names it; organisations see it only
under a grant of the ``intro_video`` field."""

from __future__ import annotations

from fastapi import APIRouter, Header, Request
from python_multipart.exceptions import FormParserError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from pod.binaries import BinaryWriter, binary, read_range
from pod.video_share import INTRO_VIDEO

from .. import holder_flows
from ..api.deps import NowDep, SystemDep
from ..api.pod_http import parse_range, range_applies
from ..api.render import json_response
from ..api.streaming import stream_into
from . import cookies
from .auth import CsrfRejected, HolderPod
from .render import page, redirect
from .video_form import VideoForm, VideoFormError

router = APIRouter(include_in_schema=False)
PATH = "/mijn/video"
NAME = INTRO_VIDEO
MEDIA_TYPES = ("video/mp4", "video/webm")
MAX_VIDEO_BYTES = 200 * 1024 * 1024


def body_limit(path: str) -> int | None:
    return MAX_VIDEO_BYTES if path == PATH else None


@router.put(PATH)
async def upload(request: Request, pod: HolderPod, system: SystemDep, now: NowDep,
                 x_csrf_token: str | None = Header(default=None, max_length=64)
                 ) -> Response:
    """The CSRF token comes in a header (the body is the video itself)."""
    if not cookies.csrf_valid(request.app.state.web.csrf_secret, request,
                              x_csrf_token):
        raise CsrfRejected()
    media_type = request.headers.get("content-type", "").split(";")[0].strip()
    if media_type not in MEDIA_TYPES:
        return json_response({"error": "video/mp4 or video/webm only"}, status=415)
    writer = await run_in_threadpool(BinaryWriter, pod, NAME, media_type)
    received = 0

    def write(chunk: bytes) -> None:
        nonlocal received
        received += len(chunk)
        writer.write(chunk)

    try:
        await stream_into(request, write)
        if not received:  # an empty video would replace the holder's own
            writer.abort()
            return json_response({"error": "the video is empty"}, status=400)
        info = await run_in_threadpool(writer.commit, now)
    except BaseException:
        writer.abort()
        raise
    await run_in_threadpool(_name_in_workcontext, system, pod, media_type,
                            now)
    return json_response({"size": info.size})


@router.post(PATH)
async def upload_form(request: Request, pod: HolderPod, system: SystemDep,
                      now: NowDep) -> Response:
    """The same upload from the plain form, for a browser without scripts."""
    secret = request.app.state.web.csrf_secret
    try:
        form = VideoForm(request.headers.get("content-type", ""), cookies.CSRF_FIELD,
                         lambda token: cookies.csrf_valid(secret, request, token),
                         lambda media_type: BinaryWriter(pod, NAME, media_type),
                         MEDIA_TYPES)
        try:
            await stream_into(request, form.write)
            await run_in_threadpool(form.finish)
            await run_in_threadpool(form.writer.commit, now)
        except BaseException:
            if form.writer is not None:
                form.writer.abort()
            raise
    except (VideoFormError, FormParserError) as exc:
        problem = exc if isinstance(exc, VideoFormError) else VideoFormError(
            "video.not_a_form")
        return page(request, "error.html", status=400, error="video.failed",
                    detail=problem, back="/mijn/werkcontext")
    await run_in_threadpool(_name_in_workcontext, system, pod,
                            form.media_type, now)
    return redirect("/mijn/werkcontext", "video-saved")


def _name_in_workcontext(system, pod, media_type: str, now) -> None:
    """The Workcontext points at the video in the pod; saving re-publishes the live
    grants, so a grant of ``intro_video`` carries the new link."""
    document = pod.workcontext()
    if document is None:
        return
    # The public address from the settings, never the request's Host header: the
    # link is published to every organisation the holder's grants name.
    url = (f"{system.settings.public_base()}api/v1/pods/{system.pods.pod_id(pod.did)}/"
           f"bestanden/{NAME}")
    stored = document.get("introVideo")
    video = dict(stored) if isinstance(stored, dict) else {"type": "VideoObject"}
    video.update(contentUrl=url, encodingFormat=media_type)
    document = dict(document, introVideo=video)
    holder_flows.save_workcontext(system, pod, document, now)


@router.get(PATH)
def play(pod: HolderPod, range_: str | None = Header(default=None, alias="Range",
                                                      max_length=200),
         if_range: str | None = Header(default=None, alias="If-Range",
                                       max_length=200)) -> Response:
    """The video, or one byte range of it while the player seeks; a range asked
    under an If-Range that names an earlier video is ignored and the whole video
    sent (RFC 9110 13.1.5), so a resumed download never mixes two videos."""
    info = binary(pod, NAME)
    wanted = (parse_range(range_, info.size) if range_applies(if_range, info.etag)
              else None)
    start, end = wanted if wanted else (0, info.size - 1)
    headers = {"Accept-Ranges": "bytes", "ETag": info.etag,
               "Content-Length": str(max(0, end - start + 1))}
    status = 200
    if wanted is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
    chunks = read_range(pod, info, start, end) if info.size else iter(())
    return StreamingResponse(chunks, status_code=status, headers=headers,
                             media_type=info.media_type)
