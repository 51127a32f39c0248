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
        wire = json.loads(json.dumps({"items": page.items,
                                      "nextCursor": page.next_cursor}))
        items = wire["items"]
        read_up_to = _position(items[-1]) if items else cursor
        new += book.take(items, max(cursor, read_up_to), now)
        fetched += len(items)
        if wire["nextCursor"] is None:
            break
        cursor = wire["nextCursor"]
    return Fetched(fetched, new, book.next_due())


def _position(item) -> int:
    """The feed position of an item, which the pod resumes after next time."""
    position = item.get("feedPosition") if isinstance(item, dict) else None
    if isinstance(position, bool) or not isinstance(position, int):
        raise ValueError("a feed item without a feedPosition")
    return position


def alerts(pod: UnlockedPod) -> list[dict]:
    return AlertBook(pod).alerts()
