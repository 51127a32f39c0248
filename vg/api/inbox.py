"""The registry's inbox for signed documents from any pod.

These routes need no API key: a document is accepted only if the holder's signature
verifies, which is the authentication (a holder may run their own pod server).
"""

from __future__ import annotations

from fastapi import APIRouter

from .bounded_json import BoundedJsonRoute
from .deps import JsonBody, NowDep, SystemDep
from .models import AcceptedOut

router = APIRouter(tags=["register"], route_class=BoundedJsonRoute)


@router.post("/openbaarmakingen", status_code=201, response_model=AcceptedOut)
def receive_disclosure(document: JsonBody, system: SystemDep,
                       now: NowDep) -> AcceptedOut:
    accepted = system.registry.receive_disclosure(document, now)
    return AcceptedOut(grant=accepted.grant_id, fields=list(accepted.fields))


@router.post("/intrekkingen", status_code=200)
def receive_withdrawal(document: JsonBody, system: SystemDep, now: NowDep) -> dict:
    return {"withdrawn": system.registry.receive_withdrawal(document, now)}
