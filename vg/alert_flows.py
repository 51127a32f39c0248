"""Fetching the feed of open assignments into the pod, where it is matched against
the private Workcontext (nothing about the holder is disclosed for this)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from pod import UnlockedPod
from pod.alerts import AlertBook

from .wiring import System

PAGE = 100
MAX_PAGES = 50


@dataclass(frozen=True, slots=True)
class Fetched:
    fetched: int
    new: list[dict]
    next_due: datetime | None


def fetch_alerts(system: System, pod: UnlockedPod, now: datetime) -> Fetched:
    """Fetch the feed from the pod's cursor and match it in the pod, when due."""
    book = AlertBook(pod)
    due = book.next_due()
    if due is not None and now < due:
        return Fetched(0, [], due)
    cursor, fetched, new = book.cursor(), 0, []
    for _ in range(MAX_PAGES):
        page = system.work.feed.page(cursor, PAGE)
        # Crosses the pod/registry boundary as JSON text, as over a network.
        wire = json.loads(json.dumps({"items": page.items, "cursor": page.cursor}))
        new += book.take(wire["items"], wire["cursor"], now)
        fetched += len(wire["items"])
        if len(wire["items"]) < PAGE:
            break
        cursor = wire["cursor"]
    return Fetched(fetched, new, book.next_due())


def alerts(pod: UnlockedPod) -> list[dict]:
    return AlertBook(pod).alerts()
