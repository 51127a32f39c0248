"""A live grant's care after granting: renewal with a new end date, and the signed
receipts of consent (ISO/IEC TS 27560 records, W3C DPV) for the holder to keep.

Renewal is the same flow as the API's: the new grant is published before the old
one is withdrawn, so the data is never visible under neither. Receipts are plain
downloads of the same signed JSON-LD the API returns; the grant is named in the
form body, as everywhere on the pages, never in the address."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from .. import consent_flows
from ..api.deps import NowDep, SystemDep
from ..api.render import json_response
from .auth import Form, HolderPod
from .pages_holder import INPUT_ERRORS, _consent_page, _end_of_day, grant_of_form
from .render import redirect

router = APIRouter(include_in_schema=False)


@router.post("/mijn/toestemmingen/verlengen")
def renew(request: Request, form: Form, pod: HolderPod, system: SystemDep,
          now: NowDep) -> Response:
    grant_id = grant_of_form(form.get("toestemming"))
    pod.grant(grant_id)  # raises GrantNotFound for a grant of another pod
    try:
        until = _end_of_day(form.get("tot"))
        consent_flows.renew_consent(system, pod, grant_id, until, now)
    except INPUT_ERRORS + (ValueError,) as exc:
        return _consent_page(request, pod, system, now, status=400,
                             error="consent.not_renewed", detail=exc)
    return redirect("/mijn/toestemmingen", "renewed")


@router.post("/mijn/toestemmingen/bewijs")
def receipt(form: Form, pod: HolderPod, system: SystemDep, now: NowDep) -> Response:
    """The receipt of one grant (named in the form, never in the address) or, without
    one, of every grant."""
    if not form.get("toestemming"):
        return _download(consent_flows.receipt(system, pod, now), "toestemmingen")
    grant_id = grant_of_form(form.get("toestemming"))
    pod.grant(grant_id)  # raises GrantNotFound for a grant of another pod
    return _download(consent_flows.receipt(system, pod, now, grant_id), "toestemming")


def _download(document: dict, name: str) -> Response:
    response = json_response(document, media_type="application/ld+json")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.jsonld"'
    return response
