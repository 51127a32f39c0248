"""``leaf_rows``: the append's hot path, each record's row and leaf hash in one pass.

A record becomes a row of its table (the columns in table order, after a slot for
its leaf index) and a leaf hash, SHA-256(0x00 || canonical bytes) (RFC 9162
2.1.1). The canonical JSON is written straight into a template of the sorted keys
that starts with the 0x00 byte, so the text is encoded and hashed once and the
canonical bytes themselves are never kept: the append needs only their hash.
``audit.tables.encode_all`` stays the general form (``verify`` decodes rows with
it); a test holds the two equal for any valid record, field by field, so a field
added to a record's spec but not here fails that test.

Text goes through the standard library's JSON string escaper; identifiers are
checked lowercase hex and closed-set values plain words by the records
themselves, but are escaped too, so a record changed behind its validation still
gives the bytes ``canonical_bytes`` would. The records of one request share most
values (times, fields, grants): each distinct time and key list is converted once
per call.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from hashlib import sha256
from json.encoder import encode_basestring as _json
from typing import Any

from audit.entry import AccessRecord, AuditEntry, Record, iso_ms, to_epoch_ms

Row = list[Any]  # [leaf index (offset in the batch until placed), *columns]

# Keys in sorted order (RFC 8785 for ASCII keys), the record's kind written in.
_ENTRY = ('\x00{"ended_at":%s,"fields":%s,"grants":%s,"kind":"processing",'
          '"name":%s,"organisation":%s,"outcome":%s,%s"processing_activity":%s,'
          '"purpose":%s,"reason":%s,"span_id":%s,"started_at":%s,"status":%s,'
          '"subject":%s,"subject_type":%s,"trace_id":%s}')
_ACCESS = ('\x00{"action":%s,"actor":%s,"kind":"access","occurred_at":%s,'
           '"organisation":%s,"origin":%s,"reason":%s,"result":%s,"role":%s,'
           '"span_id":%s,"subjects":%d,"target":%s,"trace_id":%s}')


def leaf_rows(records: Sequence[Record]) -> tuple[list[Row], list[Row], list[bytes]]:
    """The entry rows and the access rows of ``records`` (each row starting with
    the record's offset in ``records``) and every record's leaf hash, in order."""
    times: dict[datetime, tuple[int, str]] = {}
    keys: dict[tuple[str, ...], str] = {}
    entries: list[Row] = []
    access: list[Row] = []
    leaves: list[bytes] = []
    for offset, record in enumerate(records):
        if type(record) is AuditEntry:
            row, text = _entry(offset, record, times, keys)
            entries.append(row)
        elif type(record) is AccessRecord:
            row, text = _access(offset, record, times)
            access.append(row)
        else:
            raise TypeError("an AuditEntry or AccessRecord")
        leaves.append(sha256(text.encode("utf-8")).digest())
    return entries, access, leaves


def _entry(offset: int, e: AuditEntry, times: dict[datetime, tuple[int, str]],
           keys: dict[tuple[str, ...], str]) -> tuple[Row, str]:
    started = times.get(e.started_at) or _time(times, e.started_at)
    ended = times.get(e.ended_at) or _time(times, e.ended_at)
    fields = keys.get(e.fields) or _keys(keys, e.fields)
    grants = keys.get(e.grants) or _keys(keys, e.grants)
    parent = e.parent_span_id
    row = [offset, e.trace_id, e.span_id, parent, e.name, started[0], ended[0],
           e.processing_activity, e.organisation, e.purpose, e.subject,
           e.subject_type, fields, grants, e.outcome, e.status, e.reason]
    text = _ENTRY % (
        ended[1], fields, grants, _json(e.name), _json(e.organisation),
        _json(e.outcome),
        "" if parent is None else f'"parent_span_id":{_json(parent)},',
        _json(e.processing_activity), _json(e.purpose), _json(e.reason),
        _json(e.span_id), started[1], _json(e.status), _json(e.subject),
        _json(e.subject_type), _json(e.trace_id))
    return row, text


def _access(offset: int, a: AccessRecord, times: dict[datetime, tuple[int, str]]
            ) -> tuple[Row, str]:
    occurred = times.get(a.occurred_at) or _time(times, a.occurred_at)
    row = [offset, a.trace_id, a.span_id, occurred[0], a.actor, a.organisation,
           a.role, a.action, a.target, a.result, a.origin, a.subjects, a.reason]
    text = _ACCESS % (
        _json(a.action), _json(a.actor), occurred[1], _json(a.organisation),
        _json(a.origin), _json(a.reason), _json(a.result), _json(a.role),
        _json(a.span_id), a.subjects, _json(a.target), _json(a.trace_id))
    return row, text


def _time(times: dict[datetime, tuple[int, str]], moment: datetime) -> tuple[int, str]:
    # digits, '-', ':', '.', 'T' and 'Z': nothing to escape
    found = times[moment] = (to_epoch_ms(moment), f'"{iso_ms(moment)}"')
    return found


def _keys(keys: dict[tuple[str, ...], str], values: tuple[str, ...]) -> str:
    found = keys[values] = "[" + ",".join(map(_json, values)) + "]"
    return found
