"""The feed of open assignments, and the pod's alerts computed from it locally."""

from __future__ import annotations

from fastapi import APIRouter, Query, Response

from consent import format_time
from pod.alerts import AlertBook, AlertSettings

from .. import alert_flows
from .bounded_json import BoundedJsonRoute
from .deps import MAX_ID, HolderDep, NowDep, SystemDep
from .models_work import AlertSettingsIn
from .render import json_response

router = APIRouter(tags=["meldingen"], route_class=BoundedJsonRoute)
PAGE = alert_flows.PAGE


@router.get("/opdrachtenfeed")
def assignment_feed(_pod: HolderDep, system: SystemDep,
                    cursor: int = Query(default=0, ge=0, le=MAX_ID),
                    limit: int = Query(default=50, ge=1, le=PAGE)) -> Response:
    """Open assignments in the order they opened, after position ``cursor``: the
    ``nextCursor`` of the page before, null on the last page (as on the candidates'
    pages). Each item carries its ``feedPosition``; to fetch only what opened
    since, ask after the position of the last item read. The same for every
    holder who asks: the request says nothing about who fits."""
    page = system.work.feed.page(cursor, limit)
    return json_response({"items": page.items, "nextCursor": page.next_cursor})


@router.post("/pod/meldingen/ophalingen")
def fetch_alerts(pod: HolderDep, system: SystemDep, now: NowDep) -> Response:
    """Fetch the feed from the cursor and match it in the pod, when due."""
    fetched = alert_flows.fetch_alerts(system, pod, now)
    return json_response({"fetched": fetched.fetched, "new": fetched.new,
                          "nextDue": format_time(fetched.next_due)})


@router.get("/pod/meldingen")
def list_alerts(pod: HolderDep) -> Response:
    return json_response(AlertBook(pod).alerts())


@router.get("/pod/meldingen/instellingen")
def read_alert_settings(pod: HolderDep) -> Response:
    settings = AlertBook(pod).settings()
    return json_response({"frequency": settings.frequency,
                          "minScore": settings.min_score})


@router.put("/pod/meldingen/instellingen")
def write_alert_settings(body: AlertSettingsIn, pod: HolderDep) -> Response:
    settings = AlertSettings(body.frequency, body.minScore)
    AlertBook(pod).set_settings(settings)
    return json_response({"frequency": settings.frequency,
                          "minScore": settings.min_score})
