"""FastAPI dependencies: the system, the clock, the caller, the trace."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone
from typing import Annotated

from fastapi import Depends, Header, Request

from pod import SessionInvalid, UnlockedPod
from registry import Forbidden, Requester

from ..wiring import System

SESSION_PREFIX = "vgs_"
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


def get_system(request: Request) -> System:
    return request.app.state.system


def get_now(request: Request) -> datetime:
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock else datetime.now(timezone.utc)


def get_trace_id(traceparent: Annotated[str | None, Header()] = None) -> str:
    """Continue the caller's W3C trace when it sends one, else start a new trace."""
    match = _TRACEPARENT.match(traceparent or "")
    if match and match.group(1) != "0" * 32:
        return match.group(1)
    return secrets.token_hex(16)


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization.startswith("Bearer "):
        return authorization[len("Bearer "):].strip()
    return None


SystemDep = Annotated[System, Depends(get_system)]
NowDep = Annotated[datetime, Depends(get_now)]
TraceDep = Annotated[str, Depends(get_trace_id)]


def get_requester(system: SystemDep,
                  authorization: Annotated[str | None, Header()] = None) -> Requester:
    return system.registry.access.authenticate(_bearer(authorization))


def get_holder_pod(system: SystemDep, now: NowDep,
                   authorization: Annotated[str | None, Header()] = None) -> UnlockedPod:
    token = _bearer(authorization)
    if not token or not token.startswith(SESSION_PREFIX):
        raise SessionInvalid()
    did, kek = system.sessions.open(token[len(SESSION_PREFIX):], now)
    return system.pods.open_with_key(did, kek)


RequesterDep = Annotated[Requester, Depends(get_requester)]
HolderDep = Annotated[UnlockedPod, Depends(get_holder_pod)]


def require_role(requester: Requester, *roles: str) -> None:
    if requester.role not in roles:
        raise Forbidden("use this endpoint with a " + " or ".join(roles) + " key")
