"""``leaf_rows``: the append's hot path, each record's row (entries in runs) and
leaf hash in one pass.

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
gives the bytes ``canonical_bytes`` would.

The entries of one request differ only in their ``span_id``, ``subject``,
``fields`` and ``grants`` (``audit.entry.PER_SUBJECT``: each subject is shown on
its own grants, so a page of candidates has as many grant lists as candidates):
every other value (trace, times, activity, organisation, ...) is the request's.
So the entries are grouped by those shared values (``_SHARED``), and per group
the canonical text around the four is written once, as pieces, and so are the
row's shared columns; each entry then costs two escapes, two look-ups of its
key lists' JSON (kept per batch by value), a join and its hash. The group is
keyed by the values themselves, so two entries share pieces only when every
value that went into them is equal. Entries next to each other with the same
values form a run (``EntryRun``): the row's shared columns are kept once per
run, with each entry's ``idx``, ``span_id``, ``subject``, ``fields`` and
``grants`` beside them, so no row is built per entry until the store asks for
one (binary ``COPY``), and SQLite binds the shared columns once per statement.
A run is found by comparing an entry's values with the previous entry's
(identity first, element by element) rather than by hashing them: hashing the
two fresh datetimes of every entry cost more than the comparison. When the
grants were among the shared values, a page of ten candidates made ten runs of
one entry: ten texts written whole and, on SQLite, ten statements.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from hashlib import sha256
from json.encoder import encode_basestring as _json
from operator import attrgetter
from typing import Any, NamedTuple

from audit.entry import AccessRecord, AuditEntry, Record, iso_ms, to_epoch_ms

Row = list[Any]  # [leaf index (offset in the batch until placed), *columns]

# Keys in sorted order (RFC 8785 for ASCII keys), the record's kind written in;
# an entry's text in pieces, around the values of its fields, grants, span_id
# and subject.
_ENTRY_START = '\x00{"ended_at":%s,"fields":'
_ENTRY_GRANTS = ',"grants":'
_ENTRY_BEFORE = (',"kind":"processing","name":%s,"organisation":%s,"outcome":%s,'
                 '%s"processing_activity":%s,"purpose":%s,"reason":%s,"span_id":')
_ENTRY_BETWEEN = ',"started_at":%s,"status":%s,"subject":'
_ENTRY_AFTER = ',"subject_type":%s,"trace_id":%s}'
_ACCESS = ('\x00{"action":%s,"actor":%s,"kind":"access","occurred_at":%s,'
           '"organisation":%s,"origin":%s,"reason":%s,"result":%s,"role":%s,'
           '"span_id":%s,"subjects":%d,"target":%s,"trace_id":%s}')


class EntryRun(NamedTuple):
    """Entries next to each other in a batch that share every value but their
    own (``audit.entry.PER_SUBJECT``): ``shared`` holds the row's other columns
    in table order (without ``idx`` and those), ``members`` the ``MEMBER_WIDTH``
    that differ, flat: ``[offset, span_id, subject, fields, grants, offset,
    ...]`` (the key lists as their stored JSON), each offset the entry's place
    in the batch until the append places it."""

    shared: tuple[Any, ...]
    members: list[Any]

    def rows(self, base: int = 0) -> list[Row]:
        """The run's entries as whole rows, each with its offset plus ``base``."""
        return [list(row) for row in self.refilled_rows(base)]

    def refilled_rows(self, base: int = 0) -> Iterator[Row]:
        """The rows of ``rows``, but as one list refilled for each entry: only
        for a consumer that is done with a row before it takes the next (binary
        ``COPY`` serialises it at once). A list per entry would be freed only
        after the whole transaction, and thousands of them alive at once make
        the garbage collector run, and scan them, every few hundred rows."""
        shared = self.shared
        row = [None, shared[0], None, *shared[1:8], None, shared[8], None, None,
               *shared[9:]]
        members = iter(self.members)
        for offset, span, subject, fields, grants in zip(*[members] * MEMBER_WIDTH):
            row[0], row[2], row[10], row[12], row[13] = (
                offset + base, span, subject, fields, grants)
            yield row


# An entry's row: idx, trace_id, span_id (2), the seven columns from
# parent_span_id to purpose, subject (10), subject_type, fields (12), grants
# (13), outcome, status, reason.
MEMBER_WIDTH = 5  # values per entry in ``EntryRun.members``


def leaf_rows(records: Sequence[Record]
              ) -> tuple[list[EntryRun], list[Row], list[bytes]]:
    """The entries of ``records`` in runs of shared values, the access rows
    (each starting with the record's offset in ``records``) and every record's
    leaf hash, in order."""
    times: dict[datetime, tuple[int, str]] = {}
    keys: dict[tuple[str, ...], str] = {}
    runs: list[EntryRun] = []
    access: list[Row] = []
    leaves: list[bytes] = []
    last: tuple[Any, ...] | None = None
    pieces: _Shared | None = None
    members: list[Any] = []
    for offset, record in enumerate(records):
        if type(record) is AuditEntry:
            values = _SHARED(record)
            # Tuple equality compares element by element, each by identity
            # first: far cheaper than hashing two fresh datetimes per entry.
            if pieces is None or values != last:
                last, pieces = values, _shared(values, times)
                members = []
                runs.append(EntryRun(pieces[4], members))
            span, subject = record.span_id, record.subject
            fields = keys.get(record.fields) or _keys(keys, record.fields)
            grants = keys.get(record.grants) or _keys(keys, record.grants)
            members += (offset, span, subject, fields, grants)
            text = "".join((pieces[0], fields, _ENTRY_GRANTS, grants, pieces[1],
                            _json(span), pieces[2], _json(subject), pieces[3]))
        elif type(record) is AccessRecord:
            pieces = None  # a run is entries next to each other
            row, text = _access(offset, record, times)
            access.append(row)
        else:
            raise TypeError("an AuditEntry or AccessRecord")
        leaves.append(sha256(text.encode("utf-8")).digest())
    return runs, access, leaves


# An entry's values but its own (span_id, subject, fields, grants): those its
# request's entries share. ``_shared`` reads them by position, in this order.
_SHARED = attrgetter("trace_id", "parent_span_id", "name", "started_at", "ended_at",
                     "processing_activity", "organisation", "purpose",
                     "subject_type", "outcome", "status", "reason")
# The canonical text before the fields' value, between the grants' and the
# span_id's, between that and the subject's, after that; the row's columns but
# idx and an entry's own, in table order.
_Shared = tuple[str, str, str, str, tuple[Any, ...]]


def _shared(values: tuple[Any, ...], times: dict[datetime, tuple[int, str]]
            ) -> _Shared:
    (trace, parent, name, started_at, ended_at, activity, organisation, purpose,
     subject_type, outcome, status, reason) = values
    started = times.get(started_at) or _time(times, started_at)
    ended = times.get(ended_at) or _time(times, ended_at)
    start = _ENTRY_START % ended[1]
    before = _ENTRY_BEFORE % (
        _json(name), _json(organisation), _json(outcome),
        "" if parent is None else f'"parent_span_id":{_json(parent)},',
        _json(activity), _json(purpose), _json(reason))
    middle = _ENTRY_BETWEEN % (started[1], _json(status))
    tail = _ENTRY_AFTER % (_json(subject_type), _json(trace))
    return (start, before, middle, tail,
            (trace, parent, name, started[0], ended[0], activity, organisation,
             purpose, subject_type, outcome, status, reason))


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
