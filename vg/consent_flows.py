"""Consent over time, for the holder: every grant with its history, renewal, the
ISO/IEC TS 27560 records of every event and the signed receipts that hold them.

The pod knows the grants and withdrawals; the registry knows the receiving
organisations' declared legal bases and the suspensions an employer's policy caused
and lifted.
This composition reads both; neither side learns anything from the other here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from consent import Grant, HolderKey, parse_time
from consent.record import (
    ConsentEvent,
    DeclaredBasis,
    consent_receipt,
    consent_record,
    grant_events,
)
from pod import GrantNotLive, GrantRenewed, UnlockedPod
from pod.renewals import successor

from . import holder_flows
from .secrets_store import server_secret
from .wiring import System

RECEIPT_KEY = "receipt.key"


@dataclass(frozen=True, slots=True)
class GrantHistory:
    grant: Grant
    live: bool
    events: list[ConsentEvent]


def receipt_key(system: System) -> HolderKey:
    """The operator's Ed25519 key that signs receipts (a server secret, made once)."""
    return HolderKey(server_secret(system.settings.data_dir, RECEIPT_KEY))


def history(system: System, pod: UnlockedPod, now: datetime) -> list[GrantHistory]:
    """Every grant the holder ever made, oldest first, with what happened to it."""
    suspended: dict[str, list[tuple[datetime, str]]] = {}
    lifted: dict[str, list[tuple[datetime, str]]] = {}
    for notice in system.registry.policies.notices(pod.did):
        by = _iri(system, notice.organisation)
        suspended.setdefault(notice.grant_id, []).append((notice.created, by))
        if notice.lifted is not None:
            lifted.setdefault(notice.grant_id, []).append((notice.lifted, by))
    out = []
    records = pod.grants()
    for record in records:
        withdrawn = (parse_time(record.withdrawn, "withdrawn")
                     if record.withdrawn else None)
        renewed_by = successor(records, record) if withdrawn else None
        events = grant_events(record.grant, withdrawn,
                              suspended.get(record.grant.id, ()), now, renewed_by,
                              lifted.get(record.grant.id, ()))
        out.append(GrantHistory(record.grant, record.is_live(now), events))
    return sorted(out, key=lambda h: h.grant.created)


def _iri(system: System, code: str) -> str:
    """An organisation's TOOI identifier; a code that left the reference data (a
    merged municipality) still names who acted, as a URN."""
    organisation = system.reference.organisations.get(code)
    return organisation.tooi_uri if organisation else f"urn:vg:organisation:{code}"


def records(system: System, pod: UnlockedPod, now: datetime,
            grant_id: str | None = None) -> list[dict]:
    """The consent records of every event of every grant (or of one grant)."""
    out = []
    for item in history(system, pod, now):
        if grant_id is not None and item.grant.id != grant_id:
            continue
        bases = declared_bases(system, item.grant)
        out += [consent_record(item.grant, event, bases) for event in item.events]
    return out


def declared_bases(system: System, grant: Grant) -> list[DeclaredBasis]:
    found = system.registry.policies.bases_for(grant.audience, grant.purposes)
    return [DeclaredBasis(org, purpose, basis) for org, purpose, basis in found]


def receipt(system: System, pod: UnlockedPod, now: datetime,
            grant_id: str | None = None) -> dict:
    found = records(system, pod, now, grant_id)
    return consent_receipt(found, receipt_key(system), now)


@holder_flows.serialised
def renew_consent(system: System, pod: UnlockedPod, grant_id: str,
                  valid_until: datetime, now: datetime) -> Grant:
    """Renewal: a new grant with the same audience, purposes and fields and a new
    end, published first; then the old grant is withdrawn. At no moment is the
    data visible under neither grant, nor under a grant the holder did not make.
    A grant renewed before is refused with the grant that renewed it.

    Only the end changes. A grant that starts later is renewed by one that starts
    at the same moment, so no organisation sees the fields before the start the
    holder chose; a grant already in its period is renewed by one that starts
    now, where the old one stops (its past is the old grant's, and the two-year
    ceiling counts from the renewal). An end before the start is refused as any
    grant's is (``validUntil must be after validFrom``).

    The check, the new grant and the end of the old one happen under the pod's
    grant lock, so a withdrawal sent at the same time either comes first (the
    renewal is refused: the grant is withdrawn) or reads the renewal and
    withdraws it with the grant."""
    old = pod.grant(grant_id)
    if old.withdrawn or old.pending or old.publishing:
        renewed_by = successor(pod.grants(), old) if old.withdrawn else None
        if renewed_by is not None:
            raise GrantRenewed(grant_id, renewed_by)
        raise GrantNotLive(grant_id)
    grant = holder_flows.grant_consent(
        system, pod, old.grant.audience.to_json(), list(old.grant.purposes),
        list(old.grant.fields), valid_until, now,
        valid_from=max(old.grant.valid_from, now), renews=grant_id)
    holder_flows.end_grant(system, pod, grant_id, now, renewed_by=grant.id)
    return grant
