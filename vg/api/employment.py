"""Employees as their organisation attests them: the only way a holder acting as a
requester counts as a member of an organisation (see registry.employment)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from consent import format_time
from registry.employment import Attested

from .bounded_json import BoundedJsonRoute
from .deps import NowDep, RequesterDep, SystemDep, require_role
from .models import EmployeeCreate
from .params_work import Subject
from .render import json_response

router = APIRouter(tags=["organisatie"], route_class=BoundedJsonRoute)
EMPLOYEE_PAGE = 1000
REFERENCE_PATTERN = r"^[0-9a-f]{32}$"  # registry.employment: the organisation's own


def _employee(row: Attested) -> dict:
    return {"employee": row.reference, "attested": format_time(row.attested)}


@router.post("/medewerkers", status_code=201)
def attest_employee(body: EmployeeCreate, requester: RequesterDep, system: SystemDep,
                    now: NowDep) -> Response:
    """Attest that the holder with this did works here; answers this organisation's
    own reference for them (never the registry's pseudonym)."""
    require_role(requester, "staff")
    row = system.registry.employment.attest(requester.organisation, body.did, now)
    return json_response(_employee(row), status=201)


@router.get("/medewerkers")
def list_employees(requester: RequesterDep, system: SystemDep,
                   limit: int = Query(default=100, ge=1, le=EMPLOYEE_PAGE),
                   cursor: str | None = Query(default=None,
                                              pattern=REFERENCE_PATTERN)) -> Response:
    """The organisation's employees by reference after ``cursor`` (the
    ``nextCursor`` of the page before)."""
    require_role(requester, "staff")
    found = system.registry.employment.employees(requester.organisation, limit + 1,
                                                 cursor)
    page = found[:limit]
    return json_response({"items": [_employee(r) for r in page],
                          "nextCursor": page[-1].reference if len(found) > limit
                          else None})


@router.delete("/medewerkers/{employee}", status_code=204)
def end_employment(employee: Subject, requester: RequesterDep,
                   system: SystemDep, now: NowDep) -> Response:
    """End the attestation, and with it this organisation's reach (and its
    neighbours') through the holder's grants to their employer."""
    require_role(requester, "staff")
    system.registry.employment.end(requester.organisation, employee, now)
    return Response(status_code=204)
