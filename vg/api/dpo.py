"""DPO routes: the access log, its counts, flags, export, checkpoints and proofs.

A DPO of an organisation sees only entries of that organisation; the platform DPO
sees all (GDPR art. 37-39: the FG's read-only oversight role). Reading entries is
itself logged, as an access record (BIO 8.15: access to logs is logged too).
Checkpoints, the verifier key and consistency proofs carry no personal data; any
authenticated organisation may fetch them to check the log for itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from audit import InvalidAuditQuery, NoSuchEntry, to_csv
from registry import Forbidden, Requester

from ..audit_filters import MAX_LENGTH, check_purpose, known_purposes
from ..oversight import log_read, verify_whole_log
from .bounded_json import BoundedJsonRoute
from .deps import MAX_ID, NowDep, RequesterDep, SystemDep, TraceDep, require_role
from .models import VerifyOut
from .render import json_response



def _only_known_filters(request: Request) -> None:
    """A query parameter the route does not take is refused, never ignored: an
    unfiltered log is no answer to a filter it could not apply."""
    route = request.scope.get("route")
    if route is None:
        return
    known = _query_names(route.dependant)
    for name in request.query_params:
        if name not in known:
            takes = ("only " + ", ".join(sorted(known))) if known else "none"
            raise InvalidAuditQuery(name, f"absent: this view takes {takes}")


def _query_names(dependant) -> set[str]:
    """The query parameters a route and its dependencies declare."""
    names = {p.alias for p in dependant.query_params}
    for inner in dependant.dependencies:
        names |= _query_names(inner)
    return names


router = APIRouter(tags=["fg"], route_class=BoundedJsonRoute,
                   dependencies=[Depends(_only_known_filters)])
DPO_ROLES = ("dpo", "platform-dpo")
TEXT = "text/plain; charset=utf-8"
QUERY_NAMES = {"old": "van", "size": "tot"}


def _period(since: datetime | None, until: datetime | None) -> None:
    """An empty or reversed period is a mistake, refused as the flags refuse it,
    not an empty answer."""
    if since is not None and until is not None and until <= since:
        raise InvalidAuditQuery("until", "after since")


def _scope(requester: Requester, organisation: str | None) -> str | None:
    """A municipal DPO's filter is always their own organisation; asking for
    another one is refused, not silently answered with their own rows."""
    require_role(requester, *DPO_ROLES)
    if requester.role == "platform-dpo":
        return organisation
    if organisation not in (None, requester.organisation):
        raise Forbidden("read the log of another organisation with a dpo key")
    return requester.organisation


@router.get("/auditlog")
def read_log(requester: RequesterDep, system: SystemDep, now: NowDep, trace: TraceDep,
             organisation: str | None = Query(
                 default=None, max_length=MAX_LENGTH["organisation"]),
             requester_id: str | None = Query(default=None, alias="requester",
                                              max_length=MAX_LENGTH["requester"]),
             purpose: str | None = Query(
                 default=None, max_length=MAX_LENGTH["purpose"],
                 json_schema_extra={"enum": list(known_purposes())}),
             subject: str | None = Query(default=None,
                                         max_length=MAX_LENGTH["subject"]),
             outcome: Literal["disclosed", "refused"] | None = None,
             since: datetime | None = None, until: datetime | None = None,
             export: Literal["json", "csv"] = Query(default="json", alias="format"),
             limit: int = Query(default=100, ge=1, le=1000),
             offset: int = Query(default=0, ge=0, le=MAX_ID)) -> Response:
    """Entries in log order with the access record of their request; ``format=csv``
    exports the same rows as CSV. An unknown purpose is refused (400), not
    answered with an empty log."""
    _period(since, until)
    check_purpose(purpose)
    organisation = _scope(requester, organisation)
    records = system.audit.entries(
        organisation=organisation, requester=requester_id, purpose=purpose,
        subject=subject, outcome=outcome, since=since, until=until, limit=limit,
        offset=offset)
    log_read(system, requester, now, trace, "read-audit-log", len(records))
    if export == "csv":
        return Response(to_csv(records), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": "attachment; "
                                 'filename="auditlog.csv"'})
    return json_response([r.to_json() for r in records])


@router.get("/auditlog/statistieken")
def counts(requester: RequesterDep, system: SystemDep,
           organisation: str | None = Query(
               default=None, max_length=MAX_LENGTH["organisation"]),
           since: datetime | None = None, until: datetime | None = None) -> Response:
    """Entries per day, purpose and outcome."""
    _period(since, until)
    organisation = _scope(requester, organisation)
    return json_response(system.audit.daily_counts(organisation=organisation,
                                                   since=since, until=until))


@router.get("/auditlog/signalen")
def unusual_access(requester: RequesterDep, system: SystemDep, now: NowDep,
                   trace: TraceDep, since: datetime, until: datetime,
                   organisation: str | None = Query(
                       default=None, max_length=MAX_LENGTH["organisation"])
                   ) -> Response:
    """Flags for unusual access in [since, until) (at most 92 days)."""
    organisation = _scope(requester, organisation)
    found, truncated = system.audit.flags(since, until, system.audit_rules,
                                          organisation)
    log_read(system, requester, now, trace, "read-audit-flags", len(found))
    return json_response({"flags": [f.to_json() for f in found],
                          "truncated": truncated})


@router.get("/auditlog/verificatie", response_model=VerifyOut)
def verify_log(requester: RequesterDep, system: SystemDep) -> VerifyOut:
    """Recompute the whole tree and compare it with every signed checkpoint."""
    require_role(requester, *DPO_ROLES)
    return VerifyOut(**verify_whole_log(system).to_json())


@router.get("/auditlog/checkpoint")
def checkpoint(requester: RequesterDep, system: SystemDep, now: NowDep) -> Response:
    """The signed checkpoint of the current tree (C2SP tlog-checkpoint)."""
    return Response(system.audit.checkpoint(now), media_type=TEXT)


@router.get("/auditlog/verificatiesleutel")
def verifier_key(requester: RequesterDep, system: SystemDep) -> Response:
    """The log's verifier key (C2SP signed-note vkey), to check checkpoints with."""
    return Response(system.audit.verifier.vkey() + "\n", media_type=TEXT)


@router.get("/auditlog/consistentie")
def consistency(requester: RequesterDep, system: SystemDep,
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
    organisation = _scope(requester, None)
    record = system.audit.record_at(index)
    if record is None or (organisation and record.organisation != organisation):
        raise NoSuchEntry(index)
    system.audit.checkpoint(now)
    return Response(system.audit.proof_text(index), media_type=TEXT)
