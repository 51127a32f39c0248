"""Consent routes: grant history, renewal, ISO/IEC TS 27560 records and signed
receipts for the holder; employer policies and declared legal bases for
organisations; the notices a policy change leaves for a holder.

An organisation's routes here show only what that organisation itself declared:
never a grant, a refusal, a suspension count or a withdrawal (EDPB Guidelines
05/2020 on consent, section 3.1.1).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Response
from pydantic import Field

from consent import EmployerPolicy, format_time, grant_urn
from schemas import PURPOSES

from .. import consent_flows
from .bounded_json import BoundedJsonRoute
from .deps import GrantRef, HolderDep, NowDep, RequesterDep, SystemDep, require_role
from .holder import grant_out
from .models import GrantOut
from .render import json_response
from .strict import Moment, Strict

router = APIRouter(tags=["toestemming"], route_class=BoundedJsonRoute)
LD_JSON = "application/ld+json"


class Renewal(Strict):
    validUntil: Moment


class PolicyIn(Strict):
    allowedKinds: list[Annotated[str, Field(max_length=40)]] = Field(max_length=20)
    withinProvince: bool = False


PurposeKey = Literal[tuple(PURPOSES)]  # type: ignore[valid-type]


class BasesIn(Strict):
    bases: dict[PurposeKey, Literal["public_task", "employee_request"]] = Field(
        max_length=10)


@router.get("/pod/toestemmingen/historie")
def grant_history(pod: HolderDep, system: SystemDep, now: NowDep) -> Response:
    """Every grant the holder ever made and what happened to it (GDPR art. 7(1))."""
    return json_response([
        {"grant": item.grant.to_json(), "live": item.live,
         "events": [_event(e) for e in item.events]}
        for item in consent_flows.history(system, pod, now)
    ])


def _event(event) -> dict:
    shown = {"status": event.status, "at": format_time(event.at), "by": event.by}
    if event.renewed_by:
        shown["renewedBy"] = event.renewed_by
    return shown


@router.post("/pod/toestemmingen/{grant_ref}/verlenging", status_code=201,
             response_model=GrantOut)
def renew_grant(grant_ref: GrantRef, body: Renewal, pod: HolderDep, system: SystemDep,
                now: NowDep) -> GrantOut:
    """The new grant as every consent route answers a grant (its state members,
    not the signed document with the holder's did and signature)."""
    grant = consent_flows.renew_consent(system, pod, grant_urn(grant_ref),
                                        body.validUntil, now)
    record = next(r for r in pod.grants() if r.grant.id == grant.id)
    return grant_out(record, now)


@router.get("/pod/toestemmingen/records")
def consent_records(pod: HolderDep, system: SystemDep, now: NowDep) -> Response:
    """Every grant and withdrawal as ISO/IEC TS 27560 records (W3C DPV, JSON-LD)."""
    return json_response(consent_flows.records(system, pod, now), media_type=LD_JSON)


@router.get("/pod/toestemmingen/ontvangstbewijs")
def all_receipt(pod: HolderDep, system: SystemDep, now: NowDep) -> Response:
    """A signed receipt holding every record, for the holder to keep."""
    return json_response(consent_flows.receipt(system, pod, now), media_type=LD_JSON)


@router.get("/pod/toestemmingen/{grant_ref}/ontvangstbewijs")
def grant_receipt(grant_ref: GrantRef, pod: HolderDep, system: SystemDep,
                  now: NowDep) -> Response:
    grant_id = grant_urn(grant_ref)
    pod.grant(grant_id)
    document = consent_flows.receipt(system, pod, now, grant_id)
    return json_response(document, media_type=LD_JSON)


@router.get("/pod/toestemmingen/meldingen")
def notices(pod: HolderDep, system: SystemDep) -> Response:
    """Grants an employer's policy change suspended, with the reason."""
    found = system.registry.policies.notices(pod.did)
    return json_response([notice.to_json() for notice in found])


@router.get("/ontvangstbewijs/sleutel")
def receipt_issuer(system: SystemDep) -> Response:
    """The did:key whose signature a genuine receipt carries."""
    return json_response({"issuer": consent_flows.receipt_key(system).did})


@router.get("/organisatie/toestemmingsbeleid")
def read_policy(requester: RequesterDep, system: SystemDep) -> Response:
    require_role(requester, "staff")
    policy = system.registry.policies.policy(requester.organisation)
    return json_response(policy.to_json() if policy else None)


@router.put("/organisatie/toestemmingsbeleid")
def write_policy(body: PolicyIn, requester: RequesterDep, system: SystemDep,
                 now: NowDep) -> Response:
    """Set which audiences this organisation's employees may grant. Grants the new
    policy refuses are suspended; the response says nothing about them."""
    require_role(requester, "staff")
    policy = EmployerPolicy.from_json(requester.organisation, body.model_dump(),
                                      system.reference)
    system.registry.policies.set_policy(policy, now)
    return json_response(policy.to_json())


@router.get("/organisatie/rechtsgronden")
def read_bases(requester: RequesterDep, system: SystemDep) -> Response:
    require_role(requester, "staff", "dpo")
    return _bases(system, requester.organisation)


@router.put("/organisatie/rechtsgronden")
def write_bases(body: BasesIn, requester: RequesterDep, system: SystemDep,
                now: NowDep) -> Response:
    """The organisation's own legal basis per purpose: public task (art. 6(1)(e))
    or a request of the employee (art. 6(1)(b))."""
    require_role(requester, "staff", "dpo")
    for purpose, basis in body.bases.items():
        system.registry.policies.declare_basis(requester.organisation, purpose,
                                               basis, now)
    return _bases(system, requester.organisation)


def _bases(system, organisation: str) -> Response:
    return json_response({"bases": system.registry.policies.bases(organisation)})

