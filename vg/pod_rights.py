"""The holder's rights as actions: export, import elsewhere, erase (GDPR art. 15,
17, 20). The pod acts; the registry hears of it through signed documents only."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from consent import format_time
from pod import UnlockedPod
from pod.archive import export_archive, import_archive
from registry import Erased, pseudonym_for
from schemas import check_references

from . import holder_flows
from .holder_flows import deliver
from .wiring import System


def own_access_log(system: System, did: str, limit: int = 1000,
                   offset: int = 0) -> list[dict]:
    """The holder's view of the audit entries about them (GDPR art. 15(1)(c))."""
    subject = pseudonym_for(system.pseudonym_secret, did)
    records = system.audit.entries(subject=subject, limit=limit, offset=offset)
    return [access_record(r) for r in records]


def access_record(record) -> dict:
    """One audit record as the holder sees it; ``GET /pod/inzage`` adds the entry's
    exact bytes and its inclusion proof to the same members."""
    entry, access = record.entry, record.access
    return {"index": record.index, "occurredAt": format_time(entry.started_at),
            "organisation": entry.organisation,
            "requesterRole": access.role if access else None,
            "action": access.action if access else None,
            "target": access.target if access else None,
            "purpose": entry.purpose, "fields": list(entry.fields),
            "outcome": entry.outcome, "reason": entry.reason,
            "processingActivity": entry.processing_activity}


def export_pod(system: System, pod: UnlockedPod, passphrase: str,
               now: datetime) -> dict[str, Any]:
    log = _whole_access_log(system, pod.did)
    return export_archive(pod, passphrase, log, now, system.pods.derivation)


def import_pod(system: System, archive: Any, passphrase: str,
               now: datetime) -> UnlockedPod:
    """A new pod from an archive, each version validated like any write and stored
    as a save stores it; then every live grant is published to this server's
    registry, as after a change of the Workcontext."""

    def validate(document: dict, holder: str) -> None:
        system.validator.validate(document, holder_id=holder)
        check_references(system.reference, document)

    pod = import_archive(system.pods, archive, passphrase, now,
                         prepare=holder_flows.stored_form, validate=validate)
    if pod.workcontext() is not None:
        for disclosure in pod.live_disclosures(now):
            deliver(system.registry, disclosure, now)
    return pod


def erase_pod(system: System, pod: UnlockedPod, now: datetime) -> Erased:
    """Purge the registry first, then crypto-shred the pod: a failure on the way
    leaves a pod the holder can erase again, never data left behind unseen."""
    request = json.loads(json.dumps(pod.erasure_request(now)))
    erased = system.registry.receive_erasure(request, now)
    system.pods.erase(pod)
    return erased


def _whole_access_log(system: System, did: str) -> list[dict]:
    entries, offset = [], 0
    while True:
        page = own_access_log(system, did, limit=1000, offset=offset)
        entries.extend(page)
        if len(page) < 1000:
            return entries
        offset += len(page)

