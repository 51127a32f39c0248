"""The checks of bulk ingest that need no registry state, run in worker processes.

``DocumentChecks`` applies to one JSON text, in the order of ``Ingest.disclosure``,
every check that does not read the registry: the bounded parse, the holder's Ed25519
signature (over the embedded grant too), the grant's period and the document's issue
time, the audience's references, the projection's structure and references, the
employer named and the employer-audience rule. A worker sends back only the values
of the rows to store, as plain tuples of strings and numbers already converted for
the database: pickling the parsed objects cost a worker a fifth of its time, and
converting values in the one parent process made it the bottleneck.
"""

from __future__ import annotations

import gc
import json
from datetime import datetime
from typing import Any, Callable, Mapping, NamedTuple

from consent import ConsentError, check_audience_for_holder, read_disclosure
from schemas import SchemaError, WorkcontextValidator, check_references, parse_bounded

from sqlalchemy import DateTime

from .errors import GrantNotLive, RegistryError
from .extract import extract
from .ingest import _check_issued, pseudonym_for
from .policies import Policies
from .tables import Disclosure
from .video_shares import named_share

D = Disclosure.__table__

# The disclosure columns a worker fills, in the order of ``Checked.row``; the parent
# adds the id before them and the document and receipt time after them.
CHECKED_COLUMNS = (
    "grant_id", "holder_did", "sequence", "audience_kind", "audience_ref",
    "valid_from", "valid_until", "fields", "projection", "employer_code",
    "level_rank", "hours_per_week", "available_from", "available_until",
    "policy_employer", "video_share")


class Checked(NamedTuple):
    """A document that passed every check needing no registry state. A worker
    sends it as a plain tuple (``Checked._make`` rebuilds it)."""

    holder: str
    pseudonym: str
    sequence: int
    grant_id: str
    audience: dict  # the grant's audience in its JSON form
    organisations: tuple[str, ...]  # the members of a listed audience
    employer: str | None  # the code of the employer whose policy governs the grant
    purposes: tuple[str, ...]
    skills: tuple[str, ...]
    # Whether the audience fits the employer the Workcontext names (an employer
    # audience names that employer): one that does not is refused, or retracts
    # what the grant disclosed before, by the registry-state checks.
    fits_employer: bool
    row: tuple  # the values of CHECKED_COLUMNS, converted for the database


class DocumentChecks:
    """The checks of ``Ingest.disclosure`` that need no registry state, in its
    order, for one JSON text; raises the refusal (ConsentError, SchemaError or
    RegistryError) of the first that fails."""

    def __init__(self, geo, tooi_to_code: Mapping[str, str], policies: Policies,
                 pseudonym_secret: bytes, now: datetime, dialect):
        self._geo = geo
        self._tooi = tooi_to_code
        self._policies = policies
        self._secret = pseudonym_secret
        self._now = now
        self._validator = WorkcontextValidator()
        self._convert = converters(D, CHECKED_COLUMNS, dialect)

    def __call__(self, text: str) -> tuple:
        found = read_disclosure(parse_bounded(text), parsed_bounded=True)
        grant = found.grant
        # As in single ingest: a grant whose period has not begun is stored (the
        # gate checks its start); one that has ended is refused.
        if grant.valid_until <= self._now:
            raise GrantNotLive(grant.id)
        _check_issued(found.issued, self._now)
        grant.audience.check_known(self._geo)
        self._validator.check_structure(found.workcontext, found.holder,
                                        parsed_bounded=True)
        check_references(self._geo, found.workcontext)
        columns = extract(found.workcontext, found.fields, self._tooi)
        employer = self._policies.employer_code(found.employer)
        audience = grant.audience
        try:
            if employer is not None:  # as ``Policies.refusal_under``
                check_audience_for_holder(audience, employer)
            fits = True
        except ConsentError:
            fits = False
        row = (
            grant.id, found.holder, found.sequence, audience.kind, audience.ref,
            grant.valid_from, grant.valid_until, " ".join(sorted(found.fields)),
            _projection_json(found.workcontext), columns.employer_code,
            columns.level_rank, columns.hours_per_week, columns.available_from,
            columns.available_until, employer,
            named_share(found.fields, found.workcontext))
        return (found.holder, pseudonym_for(self._secret, found.holder),
                found.sequence, grant.id, audience.to_json(), audience.organisations,
                employer, grant.purposes, columns.skills, fits, self._convert(row))


def _projection_json(projection: dict) -> str:
    """``json.dumps(projection, ensure_ascii=False)``, the stored form, with an
    encoder built once: ``json.dumps`` builds one per call when an argument
    differs from its defaults, a third of the time of writing a projection."""
    if _ENCODE_PROJECTION is None:
        return json.dumps(projection, ensure_ascii=False)
    return "".join(_ENCODE_PROJECTION(projection, 0))


# The arguments ``json.dumps`` gives its C encoder with ``ensure_ascii=False``; no
# cycle markers (a parsed document has no cycles).
_ENCODE_PROJECTION = json.encoder.c_make_encoder(  # type: ignore[attr-defined]
    None, json.JSONEncoder().default, json.encoder.encode_basestring, None, ": ",
    ", ", False, False, True) if json.encoder.c_make_encoder is not None else None


# Set in each worker by ``init_worker``; the pool forks, so the checks (with the
# reference data, large and built once) reach the workers without pickling.
_WORKER: dict[str, Any] = {}


# A worker's youngest generation is collected after this many new containers
# instead of 700. A document's parsed containers are freed by reference counting
# before the next one is read, so a collection mostly walks what is alive at
# that moment: the current document and the results of its chunk. Every 700
# containers that was a collection or so per document (3 % of a worker's time);
# now it is one per few hundred documents, and the few cycles (a refusal's
# exception and its traceback) are still collected.
_YOUNG_THRESHOLD = 100_000


def init_worker(checks: DocumentChecks) -> None:
    # What the worker inherited lives as long as it does: out of the collector's
    # sight, a collection neither walks it nor copies its pages from the parent.
    # (The parent forks with its collector paused; the worker's runs.)
    gc.freeze()
    gc.set_threshold(_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    gc.enable()
    _WORKER["checks"] = checks


def check(item: tuple[int, str]) -> tuple[int, tuple | str]:
    """In a worker: the document's ``Checked`` values or its refusal's code."""
    position, text = item
    try:
        return position, _WORKER["checks"](text)
    except (ConsentError, SchemaError, RegistryError) as exc:
        return position, exc.code


def converters(table, names: tuple[str, ...], dialect) -> Callable[[tuple], tuple]:
    """A function that converts a row's values as SQLAlchemy converts them for
    these columns on this database (dates and times become text on SQLite), so a
    row written by the driver reads back as one written by Core. On PostgreSQL a
    time for a column without time zone loses its zone and keeps its own clock,
    as COPY's text format read it (``bulk_rows.write`` sends the binary format,
    which takes no zone there)."""
    processors = [(i, _remembered(p)) for i, p in enumerate(
        _processor(table.c[n].type, dialect) for n in names) if p is not None]
    if not processors:
        return tuple

    def convert(row: tuple) -> tuple:
        values = list(row)
        for i, process in processors:
            if values[i] is not None:
                values[i] = process(values[i])
        return tuple(values)

    return convert


def _processor(column_type, dialect) -> Callable[[Any], Any] | None:
    process = column_type.dialect_impl(dialect).bind_processor(dialect)
    if (process is None and dialect.name == "postgresql"
            and isinstance(column_type, DateTime) and not column_type.timezone):
        return _own_clock
    return process


def _own_clock(value: datetime) -> datetime:
    return value.replace(tzinfo=None)


# Conversions remembered per process. The dates of availability repeat across a
# load (days, a few hundred of them), and so do the times of grants made
# together (the benchmark's data set: one period for all); converted anew each
# time, they cost about 4 us per document (2 % of a worker), remembered 1 us.
# Times that never repeat cost one dictionary lookup more.
_REMEMBERED = 4096


def _remembered(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``process`` with its last results remembered. The key holds the time
    zone and the fold besides the value: two aware times are equal when they
    name one instant, but a conversion may write either's own clock."""
    seen: dict[tuple, Any] = {}

    def remembered(value: Any) -> Any:
        key = (value, getattr(value, "tzinfo", None), getattr(value, "fold", 0))
        found = seen.get(key, seen)
        if found is seen:
            if len(seen) >= _REMEMBERED:
                seen.clear()
            found = seen[key] = process(value)
        return found

    return remembered
