"""FastAPI dependencies: the system, the clock, the caller, the trace."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone
from typing import Annotated, Any, AsyncIterator

from fastapi import Depends, Header, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pod import SessionInvalid, UnlockedPod
from registry import Forbidden, Requester
from schemas import UnsupportedMediaType, parse_bounded

from ..head_requests import for_request
from ..wiring import System

SESSION_PREFIX = "vgs_"
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}\Z")


# The small dependencies are coroutines: a plain function would cost a hop to the
# thread pool on every request, which under load costs more than the work itself.
async def get_system(request: Request) -> System:
    return request.app.state.system


async def get_now(request: Request) -> datetime:
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock else datetime.now(timezone.utc)


async def get_trace_id(traceparent: Annotated[str | None, Header()] = None) -> str:
    """Continue the caller's W3C trace when it sends one, else start a new trace."""
    match = _TRACEPARENT.match(traceparent or "")
    if match and match.group(1) != "0" * 32:
        return match.group(1)
    return secrets.token_hex(16)


def client_address(request: Request) -> str | None:
    """The address the request came from, as the sign-in limits count clients
    (pod/attempts.py): the peer's, which behind a proxy is the proxy's, unless
    ``VG_TRUSTED_PROXIES`` names the proxy (``vg serve`` then takes the client's
    from its X-Forwarded-For; from any other peer the header is ignored)."""
    return request.client.host if request.client else None


# Declared as HTTP bearer schemes so that OpenAPI shows how to authenticate.
organisation_key = HTTPBearer(auto_error=False, scheme_name="organisatiesleutel",
                              description="API key of an organisation: vgk_...")
holder_session = HTTPBearer(auto_error=False, scheme_name="houdersessie",
                            description="Session of an unlocked pod: vgs_...")
Credentials = HTTPAuthorizationCredentials | None


def _token(credentials: Credentials) -> str | None:
    return credentials.credentials.strip() if credentials else None


JSON_MEDIA_TYPES = ("application/ld+json", "application/json")


def body_media_type(content_type: str) -> str:
    """The media type a ``Content-Type`` names, in lower case. A JSON text is
    UTF-8 (RFC 8259 section 8.1): a ``charset`` parameter naming anything else
    is refused (415), not ignored, so a Latin-1 body is not read as UTF-8."""
    media_type, _, parameters = content_type.partition(";")
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        charset = value.strip().strip('"')
        if name.strip().lower() == "charset" and charset.lower() != "utf-8":
            raise UnsupportedMediaType(media_type.strip(), charset=charset)
    return media_type.strip().lower()


async def json_only(request: Request) -> None:
    """A request that carries a body must say it is JSON in UTF-8 (415
    otherwise), before the body is read as anything: for the routers whose
    bodies are all JSON."""
    headers = request.headers
    has_body = headers.get("transfer-encoding") or headers.get("content-length",
                                                               "0") != "0"
    if not has_body:
        return
    media_type = body_media_type(headers.get("content-type", ""))
    if media_type not in JSON_MEDIA_TYPES:
        raise UnsupportedMediaType(media_type)


async def json_body(request: Request) -> Any:
    """The request body as bounded JSON; only JSON media types are accepted."""
    media_type = body_media_type(request.headers.get("content-type", ""))
    if media_type not in JSON_MEDIA_TYPES:
        raise UnsupportedMediaType(media_type)
    return parse_bounded(await request.body())


SystemDep = Annotated[System, Depends(get_system)]
NowDep = Annotated[datetime, Depends(get_now)]
TraceDep = Annotated[str, Depends(get_trace_id)]


def get_requester(
        request: Request, system: SystemDep,
        credentials: Annotated[Credentials, Depends(organisation_key)]) -> Requester:
    return for_request(request, system.registry.access.authenticate(
        _token(credentials)))


async def get_holder_pod(
        system: SystemDep, now: NowDep,
        credentials: Annotated[Credentials, Depends(holder_session)]
) -> AsyncIterator[UnlockedPod]:
    """The pod, opened for this request: this object's keys are wiped afterwards
    (the store keeps the unwrapped keys until the session ends, pod/opened.py).
    Opening costs a few small file reads and microseconds of cryptography, less
    than a hop to the thread pool, so it runs on the event loop."""
    token = _token(credentials)
    if not token or not token.startswith(SESSION_PREFIX):
        raise SessionInvalid()
    session = system.sessions.opened(token[len(SESSION_PREFIX):], now)
    pod = system.pods.open_with_key(session.did, session.passkey, now,
                                    until=session.expires)
    try:
        yield pod
    finally:
        pod.lock()


def get_log_reader(
        request: Request, system: SystemDep, now: NowDep,
        key: Annotated[Credentials, Depends(organisation_key)],
        session: Annotated[Credentials, Depends(holder_session)]) -> None:
    """An organisation's key or a holder's live session: for the log's public
    parts (checkpoint, verifier key, consistency proofs), which hold no personal
    data. A holder keeps the checkpoint of an earlier access view and needs them to
    see that the log only grew since (DESIGN.md invariant 7); the pod is not
    opened for it."""
    token = _token(key)
    if token and token.startswith(SESSION_PREFIX):
        system.sessions.opened(token[len(SESSION_PREFIX):], now)
        return
    get_requester(request, system, key)


RequesterDep = Annotated[Requester, Depends(get_requester)]
HolderDep = Annotated[UnlockedPod, Depends(get_holder_pod)]
LogReaderDep = Annotated[None, Depends(get_log_reader)]
JsonBody = Annotated[Any, Depends(json_body)]
# Identifiers in paths are database integers: bound them where they enter.
MAX_ID = 2**31 - 1
# A grant in a path: its urn:uuid or the bare UUID (consent.grant_urn).
GrantRef = Annotated[str, Path(max_length=45, description="urn:uuid:<uuid> or <uuid>")]
# One spelling per version number: no sign, no leading zero, no decimals, so one
# version is not served under several URLs (RFC 3986 6.2.2); anything else is 400.
VersionNumber = Annotated[str, Path(pattern=r"^(0|[1-9][0-9]{0,8})$")]


def require_role(requester: Requester, *roles: str) -> None:
    if requester.role not in roles:
        raise Forbidden(f"use this endpoint with a {requester.role} key (it needs a "
                        + " or ".join(roles) + " key)")
