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
    client = client_address(request)
    system.creations.check(client)

    accepted = system.registry.receive_disclosure(document, now)

    if accepted.created:  # a new grant; a new holder comes with one
        system.creations.created(client)
    return AcceptedOut(grant=accepted.grant_id, fields=list(accepted.fields))


@router.post("/intrekkingen", status_code=200)
def receive_withdrawal(document: JsonBody, request: Request, system: SystemDep,
                       now: NowDep) -> dict:
    client = client_address(request)
    system.creations.check(client)

    withdrawn = system.registry.receive_withdrawal(document, now)

    system.creations.created(client)  # each one keeps a row (registry/ingest.py)
    return {"withdrawn": withdrawn}
