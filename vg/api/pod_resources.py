"""The pod as addressable resources: one server, many pods, each under
``/api/v1/pods/<pod id>/`` (the id is a hash of the holder's did).

    <pod>/                 container: werkcontext, versies/, bestanden/, postvak/
    <pod>/werkcontext      the Workcontext: GET, HEAD, PUT, PATCH (merge patch)
    <pod>/versies/         the history; versies/<n> one version
    <pod>/bestanden/       binaries; bestanden/<name> streamed, with byte ranges
    <pod>/postvak/         the inbox: read and delete (the server delivers ratings
                           into it; no one posts to it, see vg/pod_inbox.py)

Reads and writes need the holder's session for that very pod; another pod's path
answers as if it did not exist. Every path is checked raw, before decoding, so no
spelling reaches another pod or resource (pod_http.check_raw_path). Writes take
``If-Match`` and answer 412 on a stale ETag; a PATCH without it is checked against
the version it was applied to, so it can never overwrite a change it did not see.
Reads honour ``If-Match`` too (RFC 9110 13.1.1: a server that finds no current
tag in it must not perform the method, GET included): 412 when no tag matches; a
resource without an ETag (a container, a version, a message) matches only ``*``.
A PATCH that leaves the document as it is (``{}``, or only values it already
holds) stores nothing and publishes nothing: it answers the current version and
its ETag. A PUT always stores a version, the same document included: saving again
is how a holder re-publishes to the registry.
"""

from __future__ import annotations

import base64
import json
import re
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from pod import (
    BinaryNotFound,
    MethodNotAllowed,
    PodNotFound,
    PreconditionFailed,
    UnlockedPod,
    UnsupportedMediaType,
    VersionNotFound,
    inbox,
)
from pod.binaries import BinaryWriter, binaries, binary, delete_binary, read_range
from pod.video_share import INTRO_VIDEO
from schemas import parse_bounded

from .. import holder_flows
from ..allowed_methods import refusal
from .bounded_json import InvalidBody, QueryCheckedRoute
from .deps import (
    HolderDep,
    body_media_type,
    JsonBody,
    NowDep,
    SystemDep,
    VersionNumber,
)
from .models import SavedOut
from .pod_http import (
    TURTLE,
    check_raw_path,
    match,
    merge_patch,
    negotiate,
    none_match,
    parse_range,
    range_applies,
    to_turtle,
)
from .streaming import stream_into
from .render import json_response

router = APIRouter(tags=["pod"], route_class=QueryCheckedRoute)
POD = "/pods/{pod_id}"
LDP = "http://www.w3.org/ns/ldp#"
MERGE_PATCH = "application/merge-patch+json"
# Four chunks (pod/binaries.py) per hop to the thread pool: a bigger piece costs
# memory in every upload at once, a smaller one more hops.
MAX_BINARY_BYTES = 2 * 1024 ** 3
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}\Z")


def _readable(path: str):
    """GET and HEAD on one path, each with its own OpenAPI operation id."""

    def register(func):
        router.get(path, operation_id=f"{func.__name__}_get")(func)
        router.head(path, operation_id=f"{func.__name__}_head")(func)
        return func

    return register


def body_limit(path: str) -> int | None:
    """Larger request bodies for binary uploads; None keeps the default cap."""
    if path.startswith("/api/v1/pods/") and "/bestanden/" in path:
        return MAX_BINARY_BYTES
    return None


async def own_pod(pod_id: str, request: Request, pod: HolderDep, system: SystemDep
                  ) -> UnlockedPod:
    check_raw_path(request.scope.get("raw_path") or request.url.path.encode())
    if system.pods.pod_id(pod.did) != pod_id:
        raise PodNotFound()
    return pod


OwnPod = Annotated[UnlockedPod, Depends(own_pod)]
MAX_FIELD = 1000


def _field(name: str):
    """A list-valued request header with all its field lines joined, as RFC 9110
    5.3 says a recipient may combine them (a client may send two If-Match lines)."""

    async def read(request: Request) -> str | None:
        lines = request.headers.getlist(name)
        if not lines:
            return None
        value = ", ".join(lines)
        if len(value) > MAX_FIELD:
            raise InvalidBody(400, "invalid-input", [
                f"header.{name}: must be at most {MAX_FIELD} characters"])
        return value

    return Depends(read)


IfMatch = Annotated[str | None, _field("if-match")]
IfNoneMatch = Annotated[str | None, _field("if-none-match")]
IfRange = Annotated[str | None, _field("if-range")]
Accept = Annotated[str | None, _field("accept")]


def _check_none_match(if_none_match: str | None, current: str | None) -> None:
    """A write with If-None-Match that the current version matches is refused."""
    if not none_match(if_none_match, current):
        raise PreconditionFailed(if_none_match or "", current)


def _check_match(if_match: str | None, current: str | None) -> None:
    """A read with If-Match that no current tag matches is not performed (RFC
    9110 13.1.1); called once the resource is known to exist (13.2.1)."""
    if not match(if_match, current):
        raise PreconditionFailed(if_match or "", current)


def _current_if_asked(if_none_match: str | None, pod: UnlockedPod) -> str | None:
    """The current ETag, read only when the request sends If-None-Match."""
    return None if if_none_match is None else pod.etag()


def not_modified(if_none_match: str | None, etag: str | None) -> Response | None:
    """304 for a read whose If-None-Match the current tag matches (RFC 9110
    13.1.2), else None: the read goes on."""
    if etag is None or none_match(if_none_match, etag):
        return None
    return Response(status_code=304, headers={"ETag": etag})


def checked_workcontext(pod: UnlockedPod, if_match: str | None) -> tuple[dict, str]:
    """The current Workcontext and its ETag for a read at either of its addresses:
    404 when there is none, 412 under an If-Match no current tag matches. Both
    addresses read through here, so they evaluate the same preconditions."""
    current = pod.workcontext_with_etag()
    if current is None:
        raise VersionNotFound(0)
    _check_match(if_match, current[1])
    return current


def _base(request: Request, pod: UnlockedPod, system) -> str:
    return f"{system.settings.public_base()}api/v1/pods/{system.pods.pod_id(pod.did)}/"


def _represent(document: dict, accept: str | None, etag: str | None = None,
               head: bool = False) -> Response:
    kind = negotiate(accept)
    body = to_turtle(document) if kind == TURTLE else None
    response = (Response(body, media_type=TURTLE) if body is not None
                else json_response(document, media_type=kind))
    response.headers["Vary"] = "Accept"
    if etag:
        response.headers["ETag"] = etag
    if head:
        response.body = b""
    return response


def _container(url: str, members: list[str]) -> dict:
    return {"@context": {"ldp": LDP, "contains": {"@id": "ldp:contains", "@type": "@id"}},
            "@id": url, "@type": ["ldp:Container", "ldp:BasicContainer"],
            "contains": [url + m for m in members]}


# -- the pod root and the Workcontext -------------------------------------------------
@_readable(POD + "/")
def read_pod(request: Request, pod: OwnPod, system: SystemDep,
             accept: Accept = None, if_match: IfMatch = None) -> Response:
    _check_match(if_match, None)
    members = ["versies/", "bestanden/", "postvak/"]
    if pod.etag() is not None:
        members.insert(0, "werkcontext")
    return _represent(_container(_base(request, pod, system), members), accept,
                      head=request.method == "HEAD")


@_readable(POD + "/werkcontext")
async def read_workcontext(request: Request, pod: OwnPod, accept: Accept = None,
                           if_match: IfMatch = None,
                           if_none_match: IfNoneMatch = None) -> Response:
    document, etag = checked_workcontext(pod, if_match)
    unchanged = not_modified(if_none_match, etag)
    if unchanged is not None:
        return unchanged
    return _represent(document, accept, etag, head=request.method == "HEAD")


@router.put(POD + "/werkcontext", response_model=SavedOut)
async def replace_workcontext(document: JsonBody, pod: OwnPod, system: SystemDep,
                              now: NowDep, if_match: IfMatch = None,
                              if_none_match: IfNoneMatch = None) -> Response:
    _check_none_match(if_none_match, _current_if_asked(if_none_match, pod))
    # The body was parsed by parse_bounded (JsonBody): its bounds are not walked again.
    saved = await run_in_threadpool(partial(holder_flows.save_workcontext,
                                            parsed_bounded=True),
                                    system, pod, document, now, if_match)
    return saved_response(saved)


@router.patch(POD + "/werkcontext", response_model=SavedOut)
async def patch_workcontext(request: Request, pod: OwnPod, system: SystemDep,
                            now: NowDep, if_match: IfMatch = None,
                            if_none_match: IfNoneMatch = None) -> Response:
    """JSON merge patch (RFC 7396), applied to the version it names or was read at."""
    if body_media_type(request.headers.get("content-type", "")) != MERGE_PATCH:
        raise UnsupportedMediaType(MERGE_PATCH)
    patch = parse_bounded(await request.body())
    current = pod.workcontext_with_etag()
    if current is None:
        raise VersionNotFound(0)
    _check_none_match(if_none_match, current[1])
    document = merge_patch(current[0], patch)
    if _same_json(document, current[0]):
        _check_match(if_match, current[1])
        return unchanged_response(current[1])
    saved = await run_in_threadpool(holder_flows.save_workcontext, system, pod,
                                    document, now, if_match or current[1])
    return saved_response(saved)


@router.delete(POD + "/werkcontext")
@refusal
def delete_workcontext(pod: OwnPod) -> Response:
    raise MethodNotAllowed(["GET", "HEAD", "PUT", "PATCH"],
                           "erase the whole pod with DELETE /api/v1/pod")


def saved_response(saved) -> Response:
    """The ETag of the version this request stored, not of whatever is newest by
    now: a concurrent writer may already have committed after it."""
    response = json_response(saved_body(saved))
    response.headers["ETag"] = saved.etag
    return response


def saved_body(saved) -> dict:
    return {"version": saved.version, "published": saved.published,
            "notPublished": list(saved.not_published)}


def _same_json(one, other) -> bool:
    """Equal as JSON: ``1`` and ``true``, or ``1`` and ``1.0``, are not the same
    document although Python holds them equal."""
    return json.dumps(one, sort_keys=True) == json.dumps(other, sort_keys=True)


def unchanged_response(etag: str) -> Response:
    """The answer to a write that changes nothing: the current version, stored
    and published as it was."""
    response = json_response({"version": _version_of(etag), "published": 0,
                              "notPublished": []})
    response.headers["ETag"] = etag
    return response


def _version_of(etag: str) -> int:
    """The version number a Workcontext ETag names (``"<number>-<digest>"``,
    pod.holder.etag_of)."""
    return int(etag.strip('"').split("-", 1)[0])


# -- history ------------------------------------------------------------------------
@_readable(POD + "/versies/")
def list_versions(request: Request, pod: OwnPod, system: SystemDep,
                  accept: Accept = None, if_match: IfMatch = None) -> Response:
    _check_match(if_match, None)
    url = _base(request, pod, system) + "versies/"
    members = [str(v.version) for v in pod.versions()]
    return _represent(_container(url, members), accept, head=request.method == "HEAD")


@_readable(POD + "/versies/{number}")
def read_version(number: VersionNumber, request: Request, pod: OwnPod,
                 accept: Accept = None, if_match: IfMatch = None) -> Response:
    document = pod.version(int(number))
    _check_match(if_match, None)
    return _represent(document, accept, head=request.method == "HEAD")


@router.post(POD + "/versies/{number}/herstel", response_model=SavedOut)
def restore_version(number: VersionNumber, pod: OwnPod, system: SystemDep,
                    now: NowDep, if_match: IfMatch = None,
                    if_none_match: IfNoneMatch = None) -> Response:
    """Restore makes an old version the newest, validated and re-published."""
    _check_none_match(if_none_match, _current_if_asked(if_none_match, pod))
    saved = holder_flows.save_workcontext(system, pod, pod.version(int(number)), now,
                                          if_match)
    return saved_response(saved)


# -- binaries -----------------------------------------------------------------------
@_readable(POD + "/bestanden/")
def list_binaries(request: Request, pod: OwnPod, system: SystemDep,
                  accept: Accept = None, if_match: IfMatch = None) -> Response:
    _check_match(if_match, None)
    url = _base(request, pod, system) + "bestanden/"
    members = [info.name for info in binaries(pod)]
    return _represent(_container(url, members), accept, head=request.method == "HEAD")


@router.put(POD + "/bestanden/{name}", status_code=201)
async def upload_binary(name: str, request: Request, pod: OwnPod, now: NowDep,
                        system: SystemDep, if_match: IfMatch = None,
                        if_none_match: IfNoneMatch = None) -> Response:
    """Streams the body through the chunked encryption: memory stays at about one
    upload piece whatever the size (the body cap is MAX_BINARY_BYTES)."""
    _check_none_match(if_none_match, _binary_etag(pod, name))
    media_type = request.headers.get("content-type", "application/octet-stream")
    media_type = media_type.split(";")[0].strip().lower()
    if not _MEDIA_TYPE.match(media_type):
        raise UnsupportedMediaType("a type/subtype media type")
    writer = await run_in_threadpool(BinaryWriter, pod, name, media_type)
    try:
        await stream_into(request, writer.write)
        info = await run_in_threadpool(writer.commit, now, if_match)
    except BaseException:
        writer.abort()
        raise
    if name == INTRO_VIDEO:
        await run_in_threadpool(holder_flows.publish_video_grants, system, pod, now)
    response = json_response({"name": info.name, "size": info.size}, status=201)
    response.headers["ETag"] = info.etag
    return response


@_readable(POD + "/bestanden/{name}")
def download_binary(name: str, request: Request, pod: OwnPod,
                    range_: Annotated[str | None, Header(alias="Range")] = None,
                    if_match: IfMatch = None,
                    if_none_match: IfNoneMatch = None,
                    if_range: IfRange = None) -> Response:
    """The binary, or one byte range of it; a range asked under an If-Range that
    names another version is ignored and the whole binary sent (RFC 9110 13.1.5)."""
    info = binary(pod, name)
    _check_match(if_match, info.etag)
    unchanged = not_modified(if_none_match, info.etag)
    if unchanged is not None:
        return unchanged
    wanted = (parse_range(range_, info.size) if range_applies(if_range, info.etag)
              else None)
    start, end = wanted if wanted else (0, info.size - 1)
    headers = {"ETag": info.etag, "Accept-Ranges": "bytes",
               "Content-Length": str(max(0, end - start + 1))}
    status = 200
    if wanted is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
    chunks = read_range(pod, info, start, end) if info.size else iter(())
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=info.media_type)
    return StreamingResponse(chunks, status_code=status, headers=headers,
                             media_type=info.media_type)


@router.delete(POD + "/bestanden/{name}", status_code=204)
def remove_binary(name: str, pod: OwnPod, system: SystemDep, now: NowDep,
                  if_match: IfMatch = None,
                  if_none_match: IfNoneMatch = None) -> Response:
    _check_none_match(if_none_match, binary(pod, name).etag)
    delete_binary(pod, name, if_match)
    if name == INTRO_VIDEO:
        holder_flows.publish_video_grants(system, pod, now)
    return Response(status_code=204)


def _binary_etag(pod: UnlockedPod, name: str) -> str | None:
    try:
        return binary(pod, name).etag
    except BinaryNotFound:
        return None


# -- inbox --------------------------------------------------------------------------
@router.get(POD + "/postvak/")
def list_messages(pod: OwnPod, if_match: IfMatch = None) -> Response:
    _check_match(if_match, None)
    return json_response([_message(m) for m in inbox.messages(pod)])


@router.get(POD + "/postvak/{message_id}")
def read_message(message_id: str, pod: OwnPod, if_match: IfMatch = None) -> Response:
    message = inbox.read(pod, message_id)
    _check_match(if_match, None)
    return json_response(_message(message))


@router.delete(POD + "/postvak/{message_id}", status_code=204)
def delete_message(message_id: str, pod: OwnPod, if_match: IfMatch = None) -> Response:
    """A message has no ETag: If-Match holds only as ``*`` (RFC 9110 13.1.1)."""
    if if_match is not None:
        inbox.read(pod, message_id)
        _check_match(if_match, None)
    inbox.delete(pod, message_id)
    return Response(status_code=204)


def _message(message) -> dict:
    """An unreadable message is listed with its id, so the holder can delete it."""
    body = message.body
    return {"id": message.id, "readable": message.readable, "sender": message.sender,
            "received": message.received,
            "body": base64.b64encode(body).decode("ascii") if body is not None
            else None}
