"""DPO routes: the access log, its counts, flags, export, checkpoints and proofs.

A DPO of an organisation sees only entries of that organisation; the platform DPO
sees all (GDPR art. 37-39: the FG's read-only oversight role). Reading entries is
itself logged, as an access record (BIO 8.15: access to logs is logged too).
Checkpoints, the verifier key and consistency proofs carry no personal data; any
authenticated organisation, and any holder with a session, may fetch them to check
the log for itself.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from audit import InvalidAuditQuery, NoSuchEntry, to_csv
from registry import Forbidden, Requester

from ..audit_filters import MAX_LENGTH, OUTCOMES, known_purposes, read
from ..org_names import dpo_names, flags_for_dpo, records_for_dpo
from ..oversight import log_read, verify_whole_log
from .bounded_json import BoundedJsonRoute
from .deps import (MAX_ID, LogReaderDep, NowDep, RequesterDep, SystemDep,
                   TraceDep, require_role)
from .models import VerifyOut
from .paging import next_link
from .render import json_response

router = APIRouter(tags=["fg"], route_class=BoundedJsonRoute)
DPO_ROLES = ("dpo", "platform-dpo")
TEXT = "text/plain; charset=utf-8"
QUERY_NAMES = {"old": "van", "size": "tot"}


def _text(name: str, required: bool = False, **extra) -> Any:
    """A filter as a text parameter: the rules of ``vg.audit_filters`` check it
    (one set for API, web pages and command line); the parameter states its
    length and, for the published description, what it takes."""
    return Query(default=... if required else None, max_length=MAX_LENGTH[name],
                 json_schema_extra=extra or None)


def _filters(caller: Requester, system, **values: str | None) -> dict[str, Any]:
    """The filters by the shared rules; a municipal DPO's filter is always their
    own organisation: asking for another one is refused, not silently answered
    with their own rows. A municipal DPO names holders as their organisation
    knows them (vg/org_names.py)."""
    require_role(caller, *DPO_ROLES)
    filters = read({k: v for k, v in values.items() if v is not None},
                   system.reference.organisations, names=dpo_names(system, caller))
    organisation = filters.get("organisation")
    if caller.role != "platform-dpo":
        if organisation not in (None, caller.organisation):
            raise Forbidden("read the log of another organisation with a dpo key")
        filters["organisation"] = caller.organisation
    return filters


SUBJECT_TEXT = ("a holder as the log shows them to you: the name your organisation "
                "knows them by (52 characters a-z and 2-7); the platform DPO's log "
                "shows the registry's pseudonym (32 hexadecimal digits)")
DATE_TEXT = {"description": "a date YYYY-MM-DD (since: from its start, until: "
                            "through its end, UTC) or a date-time with its offset"}


@router.get("/auditlog")
def read_log(request: Request, requester: RequesterDep, system: SystemDep, now: NowDep, trace: TraceDep,
             organisation: str | None = _text("organisation"),
             requester_id: str | None = Query(
                 default=None, alias="requester", max_length=MAX_LENGTH["requester"]),
             purpose: str | None = _text("purpose", enum=list(known_purposes())),
             subject: str | None = _text("subject", description=SUBJECT_TEXT),
             outcome: str | None = _text("outcome", enum=list(OUTCOMES)),
             since: str | None = _text("since", **DATE_TEXT),
             until: str | None = _text("until", **DATE_TEXT),
             export: Literal["json", "csv"] = Query(default="json", alias="format"),
             limit: int = Query(default=100, ge=1, le=1000),
             offset: int = Query(default=0, ge=0, le=MAX_ID),
             after: int | None = Query(default=None, ge=0, le=MAX_ID, description=(
                 "the cursor of the next page: entries after this index"))
             ) -> Response:
    """Entries in log order with the access record of their request; ``format=csv``
    exports the same rows as CSV. A filter that can not be applied (an unknown
    purpose, organisation or outcome, a pseudonym not written in full, a
    control character) is refused (400), not answered with an empty log. A page
    that does not hold every matching entry says so with a ``Link`` rel="next"
    to the rest (JSON and CSV alike)."""
    filters = _filters(requester, system, organisation=organisation,
                       requester=requester_id, purpose=purpose, subject=subject,
                       outcome=outcome, since=since, until=until)
    found = system.audit.page(limit=limit, offset=offset, after=after, **filters)
    records = records_for_dpo(system, requester, found.records)
    log_read(system, requester, now, trace, "read-audit-log", len(records))
    if export == "csv":
        response = Response(to_csv(records), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": "attachment; "
                                     'filename="auditlog.csv"'})
    else:
        response = json_response([r.to_json() for r in records])
    response.headers.update(next_link(request, found.after))
    return response


@router.get("/auditlog/statistieken")
def counts(requester: RequesterDep, system: SystemDep,
           organisation: str | None = _text("organisation"),
           since: str | None = _text("since", **DATE_TEXT),
           until: str | None = _text("until", **DATE_TEXT)) -> Response:
    """Entries per day, purpose and outcome."""
    filters = _filters(requester, system, organisation=organisation, since=since,
                       until=until)
    return json_response(system.audit.daily_counts(**filters))


@router.get("/auditlog/signalen")
def unusual_access(request: Request, requester: RequesterDep, system: SystemDep,
                   now: NowDep, trace: TraceDep,
                   since: str = _text("since", required=True, **DATE_TEXT),
                   until: str = _text("until", required=True, **DATE_TEXT),
                   organisation: str | None = _text("organisation"),
                   after: int | None = Query(default=None, ge=0, le=MAX_ID,
                                             description=(
                       "the cursor of the next page: flags of the entries after "
                       "this index"))) -> Response:
    """Flags for unusual access in [since, until) (at most 92 days). A period of
    more entries than one reading takes is answered in pages: ``truncated`` is
    true and a ``Link`` rel="next" reads the flags of the entries after them."""
    filters = _filters(requester, system, organisation=organisation, since=since,
                       until=until)
    found, rest = system.audit.flags(filters["since"], filters["until"],
                                     system.audit_rules, filters.get("organisation"),
                                     after)
    log_read(system, requester, now, trace, "read-audit-flags", len(found))
    found = flags_for_dpo(system, requester, found)
    response = json_response({"flags": [f.to_json() for f in found],
                              "truncated": rest is not None})
    response.headers.update(next_link(request, rest))
    return response


@router.get("/auditlog/verificatie", response_model=VerifyOut)
def verify_log(requester: RequesterDep, system: SystemDep) -> VerifyOut:
    """Recompute the whole tree and compare it with every signed checkpoint."""
    require_role(requester, *DPO_ROLES)
    return VerifyOut(**verify_whole_log(system).to_json())


@router.get("/auditlog/checkpoint")
def checkpoint(reader: LogReaderDep, system: SystemDep, now: NowDep) -> Response:
    """The signed checkpoint of the current tree (C2SP tlog-checkpoint)."""
    return Response(system.audit.checkpoint(now), media_type=TEXT)


@router.get("/auditlog/verificatiesleutel")
def verifier_key(reader: LogReaderDep, system: SystemDep) -> Response:
    """The log's verifier key (C2SP signed-note vkey), to check checkpoints with."""
    return Response(system.audit.verifier.vkey() + "\n", media_type=TEXT)


@router.get("/auditlog/consistentie")
def consistency(reader: LogReaderDep, system: SystemDep,
                van: int = Query(ge=1, le=MAX_ID),
                tot: int = Query(ge=1, le=MAX_ID)) -> Response:
    """The RFC 9162 consistency proof between tree sizes ``van`` and ``tot``."""
    try:
        proof = system.audit.consistency(van, tot)
    except InvalidAuditQuery as exc:  # the log's names for them are old and size
        must = str(exc).split(" must be ", 1)[-1]
        raise InvalidAuditQuery(QUERY_NAMES.get(exc.parameter, exc.parameter),
                                must) from None
    return json_response(proof.to_json())


@router.get("/auditlog/bewijs/{index}")
def inclusion(requester: RequesterDep, system: SystemDep, now: NowDep,
              index: int = Path(ge=0, le=MAX_ID)) -> Response:
    """A c2sp.org/tlog-proof that entry ``index`` is in the newest checkpoint."""
    require_role(requester, *DPO_ROLES)
    organisation = None if requester.role == "platform-dpo" else requester.organisation
    record = system.audit.record_at(index)
    if record is None or (organisation and record.organisation != organisation):
        raise NoSuchEntry(index)
    system.audit.checkpoint(now)
    return Response(system.audit.proof_text(index), media_type=TEXT)
