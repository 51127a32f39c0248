"""Timestamps in signed documents: RFC 3339, UTC, whole seconds, written with 'Z'."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from .errors import InvalidGrant


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    utc = moment.astimezone(timezone.utc)
    if 1000 <= utc.year:
        # strftime's own spelling for four-digit years, at a third of its cost
        # (every stored version is stamped).
        return (f"{utc.year}-{utc.month:02d}-{utc.day:02d}T"
                f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z")
    return utc.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


# RFC 3339 section 5.6 date-time, nothing looser (no week dates, no basic format).
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})\Z")


# The form ``format_time`` writes, in ASCII digits: ``datetime.fromisoformat``
# reads it as the UTC moment it names (Python 3.11 takes the ``Z``), at half the
# cost of the general reading below, which every signed document paid four times.
_WRITTEN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")


def parse_time(value: object, name: str) -> datetime:
    if type(value) is str and _WRITTEN.match(value):
        try:
            return datetime.fromisoformat(value)
        except ValueError as exc:  # in form, but out of range (a 13th month)
            raise InvalidGrant([f"{name} must be an RFC 3339 timestamp"]) from exc
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise InvalidGrant([f"{name} must be an RFC 3339 timestamp"])
    try:
        moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidGrant([f"{name} must be an RFC 3339 timestamp"]) from exc
    if moment.tzinfo is None:
        raise InvalidGrant([f"{name} must carry a time zone"])
    return moment.astimezone(timezone.utc)
