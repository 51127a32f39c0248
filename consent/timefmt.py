"""Timestamps in signed documents: RFC 3339, UTC, whole seconds, written with 'Z'."""

from __future__ import annotations

from datetime import datetime, timezone

from .errors import InvalidGrant


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def parse_time(value: object, name: str) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidGrant([f"{name} must be an RFC 3339 timestamp"])
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidGrant([f"{name} must be an RFC 3339 timestamp"]) from exc
    if moment.tzinfo is None:
        raise InvalidGrant([f"{name} must carry a time zone"])
    return moment.astimezone(timezone.utc)
