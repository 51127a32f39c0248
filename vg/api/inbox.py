"""The registry's inbox for signed documents from any pod.

These routes need no API key: a document is accepted only if the holder's signature
verifies, which is the authentication (a holder may run their own pod server).
A did:key costs nothing to make, so what one client address may add (a holder, a
grant, a withdrawal) is bounded (``System.creations``, pod/attempts.py): beyond
the bound a request is answered 429 with Retry-After before its signature is
checked or anything is written.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from .bounded_json import BoundedJsonRoute
from .deps import JsonBody, NowDep, SystemDep, client_address
from .models import AcceptedOut

router = APIRouter(tags=["register"], route_class=BoundedJsonRoute)


@router.post("/openbaarmakingen", status_code=201, response_model=AcceptedOut)
def receive_disclosure(document: JsonBody, request: Request, system: SystemDep,
                       now: NowDep) -> AcceptedOut:
    with system.creations.creating(client_address(request)) as creation:
        accepted = system.registry.receive_disclosure(document, now)
        creation.created = accepted.created  # a new grant; a new holder comes with one
    return AcceptedOut(grant=accepted.grant_id, fields=list(accepted.fields))


@router.post("/intrekkingen", status_code=200)
def receive_withdrawal(document: JsonBody, request: Request, system: SystemDep,
                       now: NowDep) -> dict:
    # Each one counts: it keeps a row (registry/ingest.py).
    with system.creations.creating(client_address(request)):
        withdrawn = system.registry.receive_withdrawal(document, now)
    return {"withdrawn": withdrawn}
