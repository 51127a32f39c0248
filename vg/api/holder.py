"""Holder routes: the pod, the Workcontext and its versions, grants and withdrawals,
and the holder's own view of the access log (GDPR art. 15)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from audit import unverified_checkpoint
from consent import grant_urn
from pod import GrantRecord
from pod.renewals import successor
from registry import pseudonym_for

from .. import holder_flows, pod_rights
from .bounded_json import BoundedJsonRoute
from .deps import (
    MAX_ID,
    client_address,
    SESSION_PREFIX,
    Credentials,
    GrantRef,
    VersionNumber,
    HolderDep,
    JsonBody,
    NowDep,
    SystemDep,
    holder_session,
)
from .models import GrantCreate, GrantOut, PodCreate, SavedOut, SessionCreate
from .models import WithdrawnOut
from .models import SessionOut, VersionOut
from .pod_resources import (
    IfMatch,
    IfNoneMatch,
    checked_workcontext,
    not_modified,
    replace_workcontext,
)
from .paging import next_link
from .render import json_response

router = APIRouter(tags=["houder"], route_class=BoundedJsonRoute)
LD_JSON = "application/ld+json"


@router.post("/pods", status_code=201, response_model=SessionOut)
def create_pod(body: PodCreate, request: Request, system: SystemDep,
               now: NowDep) -> SessionOut:
    client = client_address(request)
    with system.creations.creating(client), system.pods.attempts.client_slot(client):
        pod = system.pods.create(body.passphrase, now)
    return SessionOut.issued(system, pod.did, pod.passkey, now)


@router.post("/sessies", status_code=201, response_model=SessionOut)
def unlock_pod(body: SessionCreate, request: Request, system: SystemDep,
               now: NowDep) -> SessionOut:
    """Unlock a pod; ``did`` may also be the pod's id, as on the web pages."""
    pod = holder_flows.unlock(system, body.did, body.passphrase, now,
                              client=client_address(request))
    return SessionOut.issued(system, pod.did, pod.passkey, now)


@router.delete("/sessies/huidige", status_code=204)
def sign_out(pod: HolderDep, system: SystemDep, now: NowDep,
             credentials: Annotated[Credentials, Depends(holder_session)]) -> Response:
    """End the session this request carries, before it expires (the pod
    dependency has checked it is live); other sessions of the pod stay."""
    token = credentials.credentials.strip()
    system.sessions.sign_out(token[len(SESSION_PREFIX):], now)
    return Response(status_code=204)


@router.get("/pod/werkcontext")
def read_workcontext(pod: HolderDep, if_match: IfMatch = None,
                     if_none_match: IfNoneMatch = None) -> Response:
    """The current Workcontext with its ETag, to send back in If-Match; the same
    resource as ``GET /pods/<pod id>/werkcontext``, under the same preconditions
    (RFC 9110 13.1): 304 when If-None-Match matches, 412 under a stale If-Match."""
    document, etag = checked_workcontext(pod, if_match)
    unchanged = not_modified(if_none_match, etag)
    if unchanged is not None:
        return unchanged
    response = json_response(document, media_type=LD_JSON)
    response.headers["ETag"] = etag
    return response


@router.put("/pod/werkcontext", response_model=SavedOut)
async def write_workcontext(document: JsonBody, pod: HolderDep, system: SystemDep,
                            now: NowDep, if_match: IfMatch = None,
                            if_none_match: IfNoneMatch = None) -> Response:
    """The same write as ``PUT /pods/<pod id>/werkcontext``, under the same
    preconditions (RFC 9110 13.1): a stale If-Match is refused with 412, so a
    client on this address can not overwrite a version it has not seen."""
    return await replace_workcontext(document, pod, system, now, if_match,
                                     if_none_match)


@router.get("/pod/werkcontext/versies", response_model=list[VersionOut])
def list_versions(pod: HolderDep) -> list[VersionOut]:
    pending = pod.publication_pending()
    return [VersionOut(version=v.version, saved=v.saved,
                       publicationPending=v.version == pending)
            for v in pod.versions()]


@router.get("/pod/werkcontext/versies/{number}")
def read_version(pod: HolderDep, number: VersionNumber) -> Response:
    return json_response(pod.version(int(number)), media_type=LD_JSON)


@router.get("/pod/toestemmingen", response_model=list[GrantOut])
def list_grants(pod: HolderDep, system: SystemDep, now: NowDep) -> list[GrantOut]:
    holder_flows.retry_withdrawals(system, pod, now)
    holder_flows.republish_pending(system, pod, now)
    suspended = system.registry.policies.suspended(pod.did)
    records = pod.grants()
    return [grant_out(r, now, r.grant.id in suspended, _renewed_by(records, r))
            for r in records]


@router.post("/pod/toestemmingen", status_code=201, response_model=GrantOut)
def create_grant(body: GrantCreate, pod: HolderDep, system: SystemDep,
                 now: NowDep) -> GrantOut:
    grant = holder_flows.grant_consent(system, pod, body.audience, body.purposes,
                                       body.fields, body.validUntil, now,
                                       valid_from=body.validFrom)
    return grant_out(GrantRecord(grant, None), now)


@router.delete("/pod/toestemmingen/{grant_ref}", response_model=WithdrawnOut)
def withdraw_grant(grant_ref: GrantRef, pod: HolderDep, system: SystemDep,
                   now: NowDep, response: Response) -> WithdrawnOut:
    """Withdrawal is one action, as easy as granting (GDPR art. 7(3)). The grant is
    named by the id the API returned (``urn:uuid:...``) or by its bare UUID; its
    renewals are withdrawn with it (``withdrawnWith``).

    200: the registry deleted the data. 202: the registry is unavailable; the
    withdrawal is recorded (``withdrawalPending``) and the organisations can still
    see the data (``stillDisclosed``) until the server has delivered it, which it
    tries again every minute without the holder."""
    grant_id = grant_urn(grant_ref)
    pod.grant(grant_id)
    also = holder_flows.withdraw_consent(system, pod, grant_id, now)
    records = pod.grants()
    record = next(r for r in records if r.grant.id == grant_id)
    if any(r.withdrawn is None for r in records if r.grant.id in {grant_id, *also}):
        response.status_code = 202
    shown = grant_out(record, now, renewed_by=_renewed_by(records, record))
    return WithdrawnOut(**shown.model_dump(), withdrawnWith=also)


@router.get("/pod/inzage")
def own_access_log(request: Request, pod: HolderDep, system: SystemDep, now: NowDep,
                   limit: int = Query(default=100, ge=1, le=1000),
                   offset: int = Query(default=0, ge=0, le=MAX_ID),
                   after: int | None = Query(default=None, ge=0, le=MAX_ID)
                   ) -> Response:
    """Who saw which of my fields, when and for what (GDPR art. 15), with for each
    entry its exact bytes and an inclusion proof in the signed checkpoint, so the
    holder can check, with the log's verifier key alone, that it is in the log
    everyone else sees (RFC 9162 2.1.3.2, C2SP tlog-checkpoint). A page that does
    not hold every entry says so with a ``Link`` rel="next" to the rest."""
    subject = pseudonym_for(system.pseudonym_secret, pod.did)
    found = system.audit.page(subject=subject, limit=limit, offset=offset,
                              after=after)
    records = found.records
    note = system.audit.checkpoint(now)
    size = unverified_checkpoint(note).size
    proofs = system.audit.inclusions([r.index for r in records], size)
    response = json_response({
        "checkpoint": note, "verifierKey": system.audit.verifier.vkey(),
        "entries": [_access(r, proofs[r.index]) for r in records]})
    response.headers.update(next_link(request, found.after))
    return response


def _access(record, proof) -> dict:
    return {**pod_rights.access_record(record),
            "entry": record.entry.canonical_bytes().decode("utf-8"),
            "proof": proof.to_json()["hashes"]}


def _renewed_by(records: list[GrantRecord], record: GrantRecord) -> str | None:
    return successor(records, record) if record.withdrawn else None


def grant_out(record: GrantRecord, now, suspended: bool = False,
               renewed_by: str | None = None) -> GrantOut:
    """``suspended``: an employer's policy change took the grant's data out of the
    registry; the grant is not live until a later policy allows it again."""
    body = record.grant.to_json()
    return GrantOut(id=body["id"], audience=body["audience"], purposes=body["purposes"],
                    fields=body["fields"], validFrom=body["validFrom"],
                    validUntil=body["validUntil"], created=body["created"],
                    withdrawn=record.withdrawn,
                    withdrawalPending=record.pending is not None,
                    publicationPending=(record.publishing is not None
                                        and record.withdrawn is None
                                        and record.pending is None),
                    stillDisclosed=(record.pending is not None and record.withdrawn is None
                                    and record.grant.is_live(now) and not suspended),
                    suspended=suspended,
                    live=record.is_live(now) and not suspended,
                    renews=body.get("renews"), renewedBy=renewed_by)
