"""One audit entry: who was shown which fields of whom, why, and on what grounds.

The fields follow the Logboek Dataverwerkingen record (nl-standards.md section 1):
``trace_id``/``span_id`` are the W3C trace context of the action,
``processing_activity`` points into the records of processing (GDPR art. 30),
``subject`` is the pseudonymous data subject id. ``actor`` makes this the BIO audit
log (BIO 8.15.01: actor, action, object, result, time), which LDV keeps apart; the
two are joined on ``trace_id`` (section 6). ``fields`` records data categories, not
values (LDV level 2, GDPR art. 5(1)(c) minimisation).

``canonical_bytes`` is what the log hashes (DESIGN.md invariant 7), so it must never
change for a stored entry: a field added later must be left out of the canonical form
when it is unset, or every older entry would stop verifying.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal, get_args

from audit.errors import InvalidAuditEntry

Outcome = Literal["disclosed", "refused"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MS = timedelta(milliseconds=1)
_TEXT_FIELDS = (
    "processing_activity",
    "actor",
    "organisation",
    "purpose",
    "subject",
    "reason",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """An immutable, validated entry. ``occurred_at`` is normalised to UTC and
    truncated to milliseconds; ``fields`` and ``grants`` to sorted unique tuples."""

    trace_id: str
    span_id: str
    occurred_at: datetime
    processing_activity: str
    actor: str
    organisation: str
    purpose: str
    subject: str
    fields: tuple[str, ...]
    grants: tuple[str, ...]
    outcome: Outcome
    reason: str

    def __post_init__(self) -> None:
        _check_hex_id("trace_id", self.trace_id, 32)
        _check_hex_id("span_id", self.span_id, 16)
        for name in _TEXT_FIELDS:
            _check_text(name, getattr(self, name))
        if self.outcome not in OUTCOMES:
            raise InvalidAuditEntry("outcome", "one of " + ", ".join(OUTCOMES))
        object.__setattr__(self, "occurred_at", _utc_ms(self.occurred_at))
        object.__setattr__(self, "fields", _key_tuple("fields", self.fields))
        object.__setattr__(self, "grants", _key_tuple("grants", self.grants))

    def canonical_bytes(self) -> bytes:
        """Sorted keys, no whitespace, UTF-8. With only strings and arrays of strings
        (all keys ASCII) this equals RFC 8785 JCS, so any JCS library can recompute
        it."""
        document = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        document["occurred_at"] = iso_ms(self.occurred_at)
        document["fields"] = list(self.fields)
        document["grants"] = list(self.grants)
        text = json.dumps(
            document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return text.encode("utf-8")


def iso_ms(moment: datetime) -> str:
    """``2026-03-01T09:30:00.125Z``: the LDV timestamps have millisecond precision."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_epoch_ms(moment: datetime, *, round_up: bool = False) -> int:
    # Integer arithmetic on a timedelta: exact, unlike datetime.timestamp() (a float).
    if round_up:
        return -((_EPOCH - moment) // _ONE_MS)
    return (moment - _EPOCH) // _ONE_MS


def from_epoch_ms(ms: int) -> datetime:
    return _EPOCH + ms * _ONE_MS


def _check_hex_id(name: str, value: object, length: int) -> None:
    # W3C Trace Context: lowercase hex, and the all-zero id is invalid.
    if not isinstance(value, str) or not re.fullmatch(f"[0-9a-f]{{{length}}}", value):
        raise InvalidAuditEntry(name, f"{length} lowercase hexadecimal characters")
    if value == "0" * length:
        raise InvalidAuditEntry(name, "not all zeros (W3C Trace Context)")


def _check_text(name: str, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidAuditEntry(name, "a non-empty string")
    # PostgreSQL text cannot hold NUL, and a lone surrogate has no UTF-8 encoding:
    # refuse both here instead of failing later, inside the append.
    if "\x00" in value or _has_surrogate(value):
        raise InvalidAuditEntry(name, "text without NUL characters or lone surrogates")


def _has_surrogate(value: str) -> bool:
    if value.isascii():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _key_tuple(name: str, values: Iterable[str]) -> tuple[str, ...]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise InvalidAuditEntry(name, "a sequence of strings")
    items = tuple(values)
    for item in items:
        _check_text(name, item)
    return tuple(sorted(set(items)))


def _utc_ms(moment: object) -> datetime:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise InvalidAuditEntry("occurred_at", "an aware datetime")
    try:
        utc = moment.astimezone(timezone.utc)
    except OverflowError:
        raise InvalidAuditEntry("occurred_at", "a representable UTC time") from None
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)
