"""The holder's rights as actions: export, import elsewhere, erase (GDPR art. 15,
17, 20). The pod acts; the registry hears of it through signed documents only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consent import format_time
from pod import UnlockedPod
from pod.archive import export_archive, import_archive
from registry import Erased, pseudonym_for
from registry.peers import HOLDER_ROLE
from schemas import check_references

from . import holder_flows
from .wiring import System


@dataclass(frozen=True, slots=True)
class Imported:
    pod: UnlockedPod
    published: int
    not_published: tuple[dict[str, str], ...]


def own_access_log(system: System, did: str, limit: int = 1000,
                   offset: int = 0) -> list[dict]:
    """The holder's view of the audit entries about them (GDPR art. 15(1)(c))."""
    subject = pseudonym_for(system.pseudonym_secret, did)
    records = system.audit.entries(subject=subject, limit=limit, offset=offset)
    return [access_record(r) for r in records]


def own_access_count(system: System, did: str) -> int:
    """How many audit entries are about the holder."""
    return system.audit.count(subject=pseudonym_for(system.pseudonym_secret, did))


def access_record(record) -> dict:
    """One audit record as the holder sees it; ``GET /pod/inzage`` adds the entry's
    exact bytes and its inclusion proof to the same members.

    ``viewer`` says who looked: ``colleague``, a fellow holder shown the data
    (interest-group suggestions, peer search: the access record names a holder as
    the actor, ``organisation`` is then that colleague's employer), else
    ``organisation``, its staff or DPO."""
    entry, access = record.entry, record.access
    return {"index": record.index, "occurredAt": format_time(entry.started_at),
            "organisation": entry.organisation,
            "viewer": viewer_of(access),
            "requesterRole": access.role if access else None,
            "action": access.action if access else None,
            "target": access.target if access else None,
            "purpose": entry.purpose, "fields": list(entry.fields),
            "outcome": entry.outcome, "reason": entry.reason,
            "processingActivity": entry.processing_activity}


def viewer_of(access) -> str:
    return "colleague" if access and access.role == HOLDER_ROLE else "organisation"


def export_pod(system: System, pod: UnlockedPod, passphrase: str,
               now: datetime) -> dict[str, Any]:
    log = _whole_access_log(system, pod.did)
    return export_archive(pod, passphrase, log, now, system.pods.derivation)


def import_pod(system: System, archive: Any, passphrase: str,
               now: datetime) -> Imported:
    """A new pod from an archive, each version validated like any write and stored
    as a save stores it; then its grants are published, as after a save.

    Importing is the holder's own act (their passphrase opens the archive's identity
    key), so the pod signs above every sequence number this registry has taken from
    the holder: a pod erased here and imported again (a backup restored) publishes
    again. A withdrawal the archive holds as pending is sent first, as whenever a
    pod is opened. A grant the registry does not take is reported in
    ``not_published``; the pod stays, and its next save publishes the grant again.
    """

    def validate(document: dict, holder: str) -> None:
        system.validator.validate(document, holder_id=holder)
        check_references(system.reference, document)

    pod = import_archive(system.pods, archive, passphrase, now,
                         prepare=holder_flows.stored_form, validate=validate,
                         sequence_floor=system.registry.last_sequence)
    holder_flows.retry_withdrawals(system, pod, now)
    if pod.workcontext() is None:
        return Imported(pod, 0, ())
    published, failed = holder_flows.publish_grants(system, pod, pod.grants(), now)
    return Imported(pod, published, failed)


@holder_flows.serialised
def erase_pod(system: System, pod: UnlockedPod, now: datetime) -> Erased:
    """Purge the registry first, then crypto-shred the pod: a failure on the way
    leaves a pod the holder can erase again, never data left behind unseen.
    Under the pod's grant lock: a grant or a save of the holder's other tab can
    not publish between the purge and the shredding, where nothing would ever
    withdraw it."""
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

