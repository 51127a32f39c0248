"""The two kinds of record in the log, both leaves of one Merkle tree.

``AuditEntry`` is a Logboek Dataverwerkingen (LDV) processing record
(nl-standards.md section 1): ``trace_id``/``span_id`` are the W3C trace context of
the action, ``parent_span_id`` the span of the request it belongs to, ``name`` the
action, ``started_at``/``ended_at`` its timestamps (milliseconds), ``status`` the LDV
status code (a refusal is a decision, not an error: ``unset``),
``processing_activity`` a versioned IRI into the records of processing (GDPR art. 30;
LDV requires that old entries keep pointing to the version they were made under),
``subject`` the pseudonymous data subject id of ``subject_type``. One entry per data
subject per action (LDV: "one record per data subject"). ``organisation`` is the
controller on whose behalf the data was processed. It holds **no user identity**: LDV
keeps the acting employee out of its records.

``AccessRecord`` is the BIO audit-log line (BIO 8.15.01: action, object, result,
origin, actor, timestamp) of the same request, linked to its entries by ``trace_id``
and ``span_id`` = the entries' ``parent_span_id``. That is where ``actor`` lives.

``canonical_bytes`` is what becomes the leaf (RFC 9162 2.1.1), so it must never change
for a stored record: a field added later must be left out of the canonical form when
it is unset, or older leaves would stop verifying.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, get_args

from audit.errors import InvalidAuditEntry

Outcome = Literal["disclosed", "refused"]
OUTCOMES: tuple[str, ...] = get_args(Outcome)
Status = Literal["unset", "ok", "error"]
STATUSES: tuple[str, ...] = get_args(Status)
Result = Literal["disclosed", "refused", "pruned"]
RESULTS: tuple[str, ...] = get_args(Result)
PSEUDONYM_TYPE = "https://w3id.org/virtuele-gemeente/register#pseudonym-v1"

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MS = timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    """An LDV processing record. Times are normalised to UTC milliseconds; ``fields``
    and ``grants`` to sorted unique tuples."""

    trace_id: str
    span_id: str
    parent_span_id: str | None = None
    name: str
    started_at: datetime
    ended_at: datetime
    processing_activity: str
    organisation: str
    purpose: str
    subject: str
    subject_type: str = PSEUDONYM_TYPE
    fields: tuple[str, ...]
    grants: tuple[str, ...]
    outcome: Outcome
    status: Status = "unset"
    reason: str

    kind = "processing"

    def __post_init__(self) -> None:
        _normalise(self, _ENTRY_SPEC)
        if self.ended_at < self.started_at:
            raise InvalidAuditEntry("ended_at", "at or after started_at")

    def canonical_bytes(self) -> bytes:
        return _canonical(self, _ENTRY_SPEC)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessRecord:
    """A BIO audit-log line: who (``actor`` of ``organisation``, in ``role``) did
    what (``action`` on ``target``), with which ``result``, from where (``origin``:
    api, cli or system), when; ``subjects`` counts the entries it is the parent of."""

    trace_id: str
    span_id: str
    occurred_at: datetime
    actor: str
    organisation: str
    role: str
    action: str
    target: str
    result: Result
    origin: str
    subjects: int
    reason: str

    kind = "access"

    def __post_init__(self) -> None:
        _normalise(self, _ACCESS_SPEC)

    def canonical_bytes(self) -> bytes:
        return _canonical(self, _ACCESS_SPEC)


Record = AuditEntry | AccessRecord

# What differs between the entries of one request: one record per data subject
# (LDV), each under a span of its own, on that subject's fields and grants.
PER_SUBJECT = ("span_id", "subject", "fields", "grants")


def entries_per_subject(
        subjects: Iterable[tuple[str, str, Iterable[str], Iterable[str]]],
        **shared: Any) -> list[AuditEntry]:
    """One entry per ``(span_id, subject, fields, grants)`` of ``subjects``, with
    the other values ``shared``: each equal to ``AuditEntry(span_id=...,
    subject=..., fields=..., grants=..., **shared)``, and refused as that would
    be. The shared values are checked and normalised once, by building the first
    entry; the others take them from it and check only their own values (a page
    of ten entries: about a third of the CPU of ten constructors)."""
    entries: list[AuditEntry] = []
    keys: dict[tuple[str, Any], tuple[str, ...]] = {}
    slots: list[tuple[Any, Any]] = []  # each shared slot's setter and value
    for span_id, subject, fields, grants in subjects:
        if not entries:
            first = AuditEntry(span_id=span_id, subject=subject, fields=fields,
                               grants=grants, **shared)
            entries.append(first)
            slots = [(_SLOT_SET[name], getattr(first, name))
                     for name in _SHARED_SLOTS]
            continue
        _check_hex_id("span_id", span_id, 16)
        _check_text("subject", subject)
        entry = object.__new__(AuditEntry)
        for put, value in slots:
            put(entry, value)
        _set_span(entry, span_id)
        _set_subject(entry, subject)
        _set_fields(entry, _keys_once(keys, "fields", fields))
        _set_grants(entry, _keys_once(keys, "grants", grants))
        entries.append(entry)
    return entries


def _keys_once(keys: dict[tuple[str, Any], tuple[str, ...]], name: str,
               values: Iterable[str]) -> tuple[str, ...]:
    """``_key_tuple``, remembered for a tuple (the subjects of a page mostly
    share their fields): equal tuples normalise to the same key tuple."""
    if type(values) is not tuple:
        return _key_tuple(name, values)
    found = keys.get((name, values))
    if found is None:
        found = keys[(name, values)] = _key_tuple(name, values)
    return found

# field -> how it is checked and stored: text, optional text, hex id of a length,
# time (epoch ms), key list, count, or one of a closed set.
_ENTRY_SPEC: dict[str, Any] = {
    "trace_id": ("hex", 32), "span_id": ("hex", 16), "parent_span_id": ("ohex", 16),
    "name": "text", "started_at": "time", "ended_at": "time",
    "processing_activity": "text", "organisation": "text", "purpose": "text",
    "subject": "text", "subject_type": "text", "fields": "keys", "grants": "keys",
    "outcome": ("one", OUTCOMES), "status": ("one", STATUSES), "reason": "text",
}  # fmt: skip
_ACCESS_SPEC: dict[str, Any] = {
    "trace_id": ("hex", 32), "span_id": ("hex", 16), "occurred_at": "time",
    "actor": "text", "organisation": "text", "role": "text", "action": "text",
    "target": "text", "result": ("one", RESULTS), "origin": "text",
    "subjects": "count", "reason": "text",
}  # fmt: skip
SPECS = {AuditEntry: _ENTRY_SPEC, AccessRecord: _ACCESS_SPEC}
# Every other field of an entry, the ones ``entries_per_subject`` copies.
_SHARED_SLOTS = tuple(f.name for f in dataclasses.fields(AuditEntry)
                      if f.name not in PER_SUBJECT)
# Each slot's own setter (its descriptor's ``__set__``): a frozen dataclass's
# ``__setattr__`` refuses, and ``object.__setattr__`` looks the slot up by name
# on every call; a page of ten entries sets 144 of them.
_SLOT_SET = {f.name: getattr(AuditEntry, f.name).__set__
             for f in dataclasses.fields(AuditEntry)}
_set_span, _set_subject, _set_fields, _set_grants = (
    _SLOT_SET[name] for name in PER_SUBJECT)
# The canonical key order (with the record's kind), computed once per spec.
_SORTED = {id(spec): sorted([*spec.items(), ("kind", "text")])
           for spec in SPECS.values()}


def _normalise(record: Any, spec: dict[str, Any]) -> None:
    for name, kind in spec.items():
        value = getattr(record, name)
        if kind == "time":
            object.__setattr__(record, name, _utc_ms(name, value))
        elif kind == "keys":
            object.__setattr__(record, name, _key_tuple(name, value))
        elif kind == "text":
            _check_text(name, value)
        elif kind == "count":
            if type(value) is not int or value < 0:
                raise InvalidAuditEntry(name, "an integer >= 0")
        elif kind[0] in ("hex", "ohex"):
            if not (kind[0] == "ohex" and value is None):
                _check_hex_id(name, value, kind[1])
        elif value not in kind[1]:
            raise InvalidAuditEntry(name, "one of " + ", ".join(kind[1]))


# One encoder for all: json.dumps with options builds a new encoder on every call.
COMPACT_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _canonical(record: Any, spec: dict[str, Any]) -> bytes:
    """Sorted keys, no whitespace, UTF-8, plus ``kind``. With only strings, integers
    and arrays of strings (all keys ASCII) this equals RFC 8785 JCS, so any JCS
    library can recompute it. An unset optional field is left out."""
    document: dict[str, Any] = {}
    for name, kind in _SORTED[id(spec)]:
        value = record.kind if name == "kind" else getattr(record, name)
        if value is None:
            continue
        if kind == "time":
            value = iso_ms(value)
        elif kind == "keys":
            value = list(value)
        document[name] = value
    return COMPACT_JSON.encode(document).encode("utf-8")


def record_fields(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


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
    pattern = _HEX_IDS.get(length) or _hex_id_pattern(length)
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise InvalidAuditEntry(name, f"{length} lowercase hexadecimal characters")
    if value == "0" * length:
        raise InvalidAuditEntry(name, "not all zeros (W3C Trace Context)")


_HEX_IDS: dict[int, re.Pattern[str]] = {}


def _hex_id_pattern(length: int) -> re.Pattern[str]:
    pattern = _HEX_IDS[length] = re.compile(f"[0-9a-f]{{{length}}}")
    return pattern


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


def _utc_ms(name: str, moment: object) -> datetime:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise InvalidAuditEntry(name, "an aware datetime")
    try:
        utc = moment.astimezone(timezone.utc)
    except OverflowError:
        raise InvalidAuditEntry(name, "a representable UTC time") from None
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)
