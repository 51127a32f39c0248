"""The registry's inbox for signed documents from any pod.

These routes need no API key: a document is accepted only if the holder's signature
verifies, which is the authentication (a holder may run their own pod server).
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from schemas import parse_bounded

from .deps import NowDep, SystemDep
from .models import AcceptedOut

router = APIRouter(tags=["register"])


@router.post("/openbaarmakingen", status_code=201, response_model=AcceptedOut)
async def receive_disclosure(request: Request, system: SystemDep,
                             now: NowDep) -> AcceptedOut:
    document = parse_bounded(await request.body())
    accepted = system.registry.receive_disclosure(document, now)
    return AcceptedOut(grant=accepted.grant_id, fields=list(accepted.fields))


@router.post("/intrekkingen", status_code=200)
async def receive_withdrawal(request: Request, system: SystemDep,
                             now: NowDep) -> dict:
    document = parse_bounded(await request.body())
    return {"withdrawn": system.registry.receive_withdrawal(document, now)}
