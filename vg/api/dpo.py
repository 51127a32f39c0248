"""DPO routes: the access log and its verification.

A DPO of an organisation sees only entries of that organisation; the platform DPO
sees all (GDPR art. 37-39: the FG's read-only oversight role).
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Query, Response

from consent import format_time

from .deps import MAX_ID, RequesterDep, SystemDep, require_role
from .models import VerifyOut
from .render import json_response

router = APIRouter(tags=["fg"])


@router.get("/auditlog")
def read_log(requester: RequesterDep, system: SystemDep,
             organisation: str | None = Query(default=None, max_length=40),
             purpose: str | None = Query(default=None, max_length=40),
             subject: str | None = Query(default=None, max_length=64),
             since: datetime | None = None, until: datetime | None = None,
             limit: int = Query(default=100, ge=1, le=1000),
             offset: int = Query(default=0, ge=0, le=MAX_ID)) -> Response:
    require_role(requester, "dpo", "platform-dpo")
    if requester.role == "dpo":
        organisation = requester.organisation
    records = system.audit.entries(organisation=organisation, purpose=purpose,
                                   subject=subject, since=since, until=until,
                                   limit=limit, offset=offset)
    return json_response([_entry(r) for r in records])


@router.get("/auditlog/verificatie", response_model=VerifyOut)
def verify_log(requester: RequesterDep, system: SystemDep) -> VerifyOut:
    require_role(requester, "dpo", "platform-dpo")
    report = system.audit.verify()
    return VerifyOut(ok=report.ok, size=report.size, headHash=report.head_hash,
                     firstBadSequence=report.first_bad_seq, problem=report.problem)


def _entry(record) -> dict:
    e = record.entry
    return {
        "sequence": record.seq, "hash": record.entry_hash, "traceId": e.trace_id,
        "spanId": e.span_id, "occurredAt": format_time(e.occurred_at),
        "processingActivity": e.processing_activity, "actor": e.actor,
        "organisation": e.organisation, "purpose": e.purpose, "subject": e.subject,
        "fields": list(e.fields), "grants": list(e.grants), "outcome": e.outcome,
        "reason": e.reason,
    }
