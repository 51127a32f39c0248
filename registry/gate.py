"""The one gate through which every read of personal data in the registry passes.

For a requesting organisation and a declared purpose, the gate returns, per holder,
only the fields of disclosures that are live, whose purpose is the declared one and
whose audience contains the requester (DESIGN.md invariants 1-3), leaving out those
an employer's policy suspended, except for that employer (``registry.suspension``).
Expired disclosures are deleted, not skipped, before every read. What the gate hands
out for display is appended to the audit log before it is returned (invariant 4): if
the append fails, the caller gets an error and no data.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable, Iterable, Sequence, TypeVar

from sqlalchemy import Connection, Engine, Select, and_, bindparam, delete, exists
from sqlalchemy import Boolean, String, or_, select

from audit import AccessRecord, AuditLog, entries_per_subject
from consent import Audience, Geography, corop_of, safety_region_of, sector_of

from .db import transaction, within
from .errors import HeadersOnly
from .tables import CHILD_TABLES, Disclosure, DisclosureAudience, DisclosurePurpose
from .tables import DisclosureSkill, Holder
from .match_index import reach_terms, requester_keys
from .tables_match import MatchDisclosure, MatchSkill, MatchTerm
from .video_shares import drop_for_grants

D = Disclosure.__table__
H = Holder.__table__
P = DisclosurePurpose.__table__
A = DisclosureAudience.__table__
S = DisclosureSkill.__table__
MD = MatchDisclosure.__table__
MS = MatchSkill.__table__
TERM = MatchTerm.__table__


T = TypeVar("T")
_KEPT_QUERIES = 4096  # statements kept per gate; all are dropped when full
# Statements of every request, made once: their values are parameters.
_REACH_IDS = select(TERM.c.id).where(
    TERM.c.term.in_(bindparam("terms", expanding=True)))
_EXPIRED_PROBE = select(D.c.id).where(D.c.valid_until <= bindparam("now")).limit(1)


@dataclass(frozen=True, slots=True)
class Requester:
    organisation: str
    actor: str
    role: str
    # A HEAD request: it may learn the status a GET would get, never the data, so
    # nothing is disclosed to it and nothing logged (``disclose`` raises).
    headers_only: bool = False


@dataclass(frozen=True, slots=True)
class VisibleProfile:
    """What one holder lets this requester see for this purpose, and on which grants."""

    pseudonym: str
    fields: frozenset[str]
    workcontext: dict
    grant_ids: tuple[str, ...]
    employer_code: str | None
    level_rank: int | None
    hours_per_week: int | None
    skills: frozenset[str]


@dataclass(frozen=True, slots=True)
class Signals:
    """The index columns one holder lets this requester rank on for this purpose:
    the same merge of visible disclosures as a profile, without the documents."""

    pseudonym: str
    skills: frozenset[str]
    employer_code: str | None
    level_rank: int | None
    hours_per_week: int | None
    available_from: date | None
    available_until: date | None


@dataclass(frozen=True, slots=True)
class Rankable:
    """What ranking may read for one requester and purpose: the match index rows
    (``registry.tables_match``) under these reach key ids, live at ``now``."""

    reach: tuple[int, ...]
    now: datetime


class ConsentGate:
    def __init__(self, engine: Engine, geo: Geography, audit: AuditLog):
        self._engine = engine
        self._geo = geo
        self._audit = audit
        # Statements per (use, organisation, purpose): they rest on the
        # reference data, which does not change while the gate lives.
        self._queries: dict[tuple, Select] = {}
        self._audiences: dict[str, dict] = {}
        self._terms: dict[tuple[str, str], list[str]] = {}

    def signals(self, requester: Requester, purpose: str, now: datetime,
                any_of_skills: Iterable[str],
                employers: Iterable[str] | None = None,
                pseudonyms: Iterable[str] | None = None,
                decided: Rankable | None = None) -> list[Signals]:
        """What ranking may use, for holders with a visible disclosure of one of
        ``any_of_skills`` (and, when given, naming one of ``employers``). Only the
        match index and the skill rows are read, never a projection: ranking a
        million holders must not parse a million documents. Nothing is shown, so
        nothing is logged; the profiles of the few that are shown come from
        ``visible``. ``decided``: what ``rankable`` handed out for this requester,
        purpose and time moments ago (its keys are used, expired disclosures
        were just deleted)."""
        if decided is not None and decided.now == now:
            reach = list(decided.reach)
        else:
            self.purge_expired(now)
            reach = self._reach(requester.organisation, purpose)
        wanted = sorted(set(any_of_skills))
        # A skill the requester may not see must not decide who appears
        # (invariant 2): only skill rows under the requester's reach keys count.
        skilled = select(MS.c.pseudonym).join(TERM, TERM.c.id == MS.c.skill).where(
            TERM.c.term.in_(wanted), *self._reachable(MS, reach, now))
        query = (
            select(MD.c.pseudonym, MD.c.disclosure_id, MD.c.sequence,
                   MD.c.employer_code, MD.c.level_rank, MD.c.hours_per_week,
                   MD.c.available_from, MD.c.available_until, S.c.skill)
            .outerjoin(S, and_(S.c.disclosure_id == MD.c.disclosure_id,
                               S.c.skill.in_(wanted)))
            .where(*self._reachable(MD, reach, now)))
        if pseudonyms is not None:
            # The few named holders are read whole; those without a visible
            # wanted skill are dropped after the merge below (the outer join
            # brings only skills of visible disclosures). Measured at 100,000
            # holders: listing every skilled holder first cost 35 ms a page.
            query = query.where(MD.c.pseudonym.in_(sorted(set(pseudonyms))))
        else:
            query = query.where(MD.c.pseudonym.in_(skilled))
        if employers is not None:
            other = MD.alias("placed")
            placed = select(other.c.pseudonym).where(
                other.c.employer_code.in_(sorted(set(employers))),
                *self._reachable(other, reach, now))
            query = query.where(MD.c.pseudonym.in_(placed))
        with transaction(self._engine) as conn:
            rows = conn.execute(query.order_by(MD.c.pseudonym, MD.c.sequence)).all()
        return _merge_signals(rows)

    def page(self, requester: Requester, purpose: str, now: datetime,
             any_of_skills: Iterable[str], pseudonyms: Iterable[str],
             decided: Rankable | None = None, conn: Connection | None = None
             ) -> tuple[list[Signals], list[VisibleProfile]]:
        """A page of ranked holders read once: their profiles as ``visible``
        gives them, and their signals (as ``signals`` gives them, for the holders
        with a visible disclosure of one of ``any_of_skills``) merged from the
        same rows of one query, so that the reasons of a page rest on exactly
        what it shows. Nothing is logged: the caller discloses what it shows.
        ``decided``: as for ``signals``; ``conn``: the caller's transaction, if
        it has one (``db.within``)."""
        if decided is None or decided.now != now:
            self.purge_expired(now)
        org = requester.organisation
        with within(self._engine, conn) as conn:
            rows = conn.execute(self._page_query(purpose), {
                "now": now, "pseudonyms": sorted(set(pseudonyms)),
                **self._audience_values(org)}).all()
        rows = [r for r in rows if self._confirm(r, org)]
        return (_signals_of_disclosures(rows, frozenset(any_of_skills)),
                _merge(rows))

    def rankable(self, requester: Requester, purpose: str,
                 now: datetime, conn: Connection | None = None) -> Rankable:
        """What ranking may read: the match index under the requester's reach
        keys for ``purpose``, live now (never a projection). A disclosure this
        requester may not see scores nothing. Expired disclosures are deleted
        first, in the same transaction (one round trip less per query). Nothing
        is shown, so nothing is logged.

        ``conn``: the caller's transaction, which reads the page's other rows
        too. Expired disclosures found there are deleted in a transaction of
        their own, committed before the reach keys are read: the caller's stays
        one of reads only, so that what it reads of the match index's change
        log has committed."""
        if conn is None:
            with transaction(self._engine) as own:
                self._purge(own, now)
                reach = self._reach_ids(own, requester.organisation, purpose)
            return Rankable(tuple(reach), now)
        if self._expired(conn, now):
            self.purge_expired(now)
        reach = self._reach_ids(conn, requester.organisation, purpose)
        return Rankable(tuple(reach), now)

    def _reach(self, org: str, purpose: str) -> list[int]:
        with transaction(self._engine) as conn:
            return self._reach_ids(conn, org, purpose)

    def _page_query(self, purpose: str) -> Select:
        """The query of ``page`` for one purpose, with the time, the pseudonyms
        and the requester's audience values (``_audience_values``) as
        parameters: made once and kept, as SQLAlchemy keeps what it derives from
        a statement (its cache key) on the statement. One statement serves every
        organisation (measured: building and compiling the audience conditions
        anew took 2.6 ms of the first page of each organisation a process
        served)."""
        query = self._queries.get(("page", purpose))
        if query is None:
            now = bindparam("now")
            query = self._keep(("page", purpose), select(D, H.c.pseudonym).join(
                H, H.c.did == D.c.holder_did).where(
                *self._visible(D, None, purpose, now),
                H.c.pseudonym.in_(bindparam("pseudonyms", expanding=True))
            ).order_by(D.c.holder_did, D.c.sequence))
        return query

    def _keep(self, key: tuple, query: Select) -> Select:
        if len(self._queries) >= _KEPT_QUERIES:
            self._queries.clear()
        self._queries[key] = query
        return query

    def _reach_ids(self, conn: Connection, org: str, purpose: str) -> list[int]:
        """The ids of the reach keys whose audiences contain ``org`` today, for
        ``purpose`` (``registry.match_index``). Read first and passed as values:
        PostgreSQL then walks the skill index on (skill, reach) instead of every
        row of a skill (measured at 100,000 holders: twice the rows, a second
        hash join); ranking in memory compares them with each entry's keys."""
        terms = self._terms.get((org, purpose))
        if terms is None:
            if len(self._terms) >= _KEPT_QUERIES:
                self._terms.clear()
            terms = self._terms[org, purpose] = reach_terms(
                purpose, requester_keys(org, self._geo))
        return sorted(conn.execute(_REACH_IDS, {"terms": terms}).scalars())

    def _reachable(self, t, reach, now: datetime) -> list:
        """Conditions on a match index table ``t``: under one of the requester's
        reach keys and live."""
        return [t.c.reach.in_(reach), t.c.valid_from <= now, t.c.valid_until > now]

    def visible(self, requester: Requester, purpose: str, now: datetime,
                any_of_skills: Iterable[str] | None = None,
                pseudonyms: Iterable[str] | None = None) -> list[VisibleProfile]:
        """Profiles visible to ``requester`` for ``purpose`` (of the holders with
        ``pseudonyms``, when given); nothing is logged yet, because nothing has been
        shown (the caller discloses a selection)."""
        self.purge_expired(now)
        org = requester.organisation
        query = select(D, H.c.pseudonym).join(H, H.c.did == D.c.holder_did).where(
            *self._visible(D, org, purpose, now))
        if pseudonyms is not None:
            query = query.where(H.c.pseudonym.in_(sorted(set(pseudonyms))))
        if any_of_skills is not None:
            # Prefilter holders on skills in *visible* disclosures only: a skill the
            # requester may not see must not decide who appears (invariant 2).
            other = D.alias("skilled")
            skilled = select(other.c.holder_did).join(
                S, S.c.disclosure_id == other.c.id).where(
                *self._visible(other, org, purpose, now),
                S.c.skill.in_(list(any_of_skills)))
            query = query.where(D.c.holder_did.in_(skilled))
        with transaction(self._engine) as conn:
            rows = conn.execute(query.order_by(D.c.holder_did, D.c.sequence)).all()
        return _merge(r for r in rows if self._confirm(r, requester.organisation))

    def visible_grant(self, requester: Requester, purpose: str, now: datetime,
                      grant_id: str) -> VisibleProfile | None:
        """The disclosure under ``grant_id`` alone, if ``requester`` may see it
        for ``purpose`` now (the conditions of ``visible``); nothing is logged."""
        self.purge_expired(now)
        org = requester.organisation
        query = select(D, H.c.pseudonym).join(H, H.c.did == D.c.holder_did).where(
            *self._visible(D, org, purpose, now), D.c.grant_id == grant_id)
        with transaction(self._engine) as conn:
            rows = conn.execute(query).all()
        found = _merge(r for r in rows if self._confirm(r, org))
        return found[0] if found else None

    def disclose(self, requester: Requester, purpose: str,
                 profiles: Sequence[VisibleProfile], now: datetime, trace_id: str,
                 activity: str, reason: str, action: str = "disclose",
                 target: str = "-") -> None:
        """Record that ``profiles`` are about to be shown: one access record for the
        request (who asked) and one LDV entry per data subject (what was shown on
        which grants), in one transaction. Raises if the log can't (invariant 4)."""
        _check_not_headers_only(requester, profiles)
        if profiles:
            self._audit.append(_disclosed(requester, purpose, profiles, now, trace_id,
                                          activity, reason, action, target))

    def disclose_while(self, requester: Requester, purpose: str,
                       profiles: Sequence[VisibleProfile], now: datetime,
                       trace_id: str, activity: str, reason: str, action: str,
                       target: str, answer: Callable[[], T]) -> T:
        """``disclose``, with ``answer`` (building the response that shows the
        profiles) run while the records are being committed; its result is
        returned only once they are durable (invariant 4). Raises, and drops the
        answer, if the log can't."""
        _check_not_headers_only(requester, profiles)
        if not profiles:
            return answer()
        return self._audit.append_while(_disclosed(
            requester, purpose, profiles, now, trace_id, activity, reason, action,
            target), answer)

    def refuse(self, requester: Requester, now: datetime, trace_id: str,
               action: str, target: str, reason: str, purpose: str = "-",
               activity: str = "-", subjects: Sequence[str] = ()) -> None:
        """Record a refused request as a decision: the access record, and a refused
        entry for each data subject it concerned. Raises if the log can't.

        Rows that the SQL admits but the re-check from the signed grant refuses
        (``_confirm``) are dropped silently in ``visible``, which has no trace to log
        them under; they belong here once ``visible`` takes the request's trace."""
        self._audit.append(_audit_records(
            requester, purpose, now, trace_id, activity, reason, action, target,
            [(s, (), ()) for s in subjects], "refused"))

    def purge_expired(self, now: datetime) -> int:
        """Delete (not hide) every disclosure whose grant has expired (invariant 3).

        Runs before every read, so it first looks (one probe of the index on
        ``valid_until``) and writes only when there is something to delete."""
        with transaction(self._engine) as conn:
            return self._purge(conn, now)

    @staticmethod
    def _expired(conn: Connection, now: datetime) -> bool:
        """Whether any disclosure has expired (one probe of the index on
        ``valid_until``)."""
        return conn.execute(_EXPIRED_PROBE, {"now": now}).first() is not None

    @classmethod
    def _purge(cls, conn: Connection, now: datetime) -> int:
        if not cls._expired(conn, now):
            return 0
        expired = select(D.c.id).where(D.c.valid_until <= now)
        drop_for_grants(conn, select(D.c.grant_id).where(D.c.valid_until <= now))
        for table in CHILD_TABLES:
            t = table.__table__
            conn.execute(delete(t).where(t.c.disclosure_id.in_(expired)))
        return conn.execute(delete(D).where(D.c.valid_until <= now)).rowcount

    def _visible(self, t, org: str | None, purpose: str, now) -> list:
        """Conditions on disclosure table ``t``: live, for ``purpose``, audience
        containing ``org`` (the rules evaluated in SQL for one organisation), and
        not suspended by an employer's policy unless ``org`` is that employer
        (``registry.suspension``). ``org`` None: the organisation's values stay
        parameters, given when the statement runs (``_audience_values``)."""
        audience = (_audience_rule(t) if org is None
                    else self._audience_condition(t, org))
        viewer = bindparam("aud_org", type_=String) if org is None else org
        return [
            t.c.valid_from <= now,
            t.c.valid_until > now,
            or_(t.c.suspended_by.is_(None), t.c.suspended_by == viewer),
            # A probe per row, not a list of every disclosure for the purpose.
            exists().where(P.c.disclosure_id == t.c.id, P.c.purpose == purpose),
            audience,
        ]

    def _audience_condition(self, t, org: str):
        """The audience rules for ``org``, its values bound."""
        return _audience_rule(t, self._audience_values(org))

    def _audience_values(self, org: str) -> dict:
        """The parameters of ``_audience_rule`` for ``org``: what today's
        reference data says about it (kept per organisation: the reference data
        does not change while the gate lives)."""
        values = self._audiences.get(org)
        if values is None:
            geo = self._geo
            if len(self._audiences) >= _KEPT_QUERIES:
                self._audiences.clear()
            values = self._audiences[org] = {
                "aud_org": org, "aud_near": sorted(geo.neighbours(org) | {org}),
                "aud_province": geo.province_of(org),
                "aud_corop": corop_of(org, geo),
                "aud_safety_region": safety_region_of(org, geo),
                "aud_sector": sector_of(org, geo),
                "aud_municipality": geo.is_municipality(org),
                "aud_organisation": geo.has_organisation(org)}
        return values

    def _confirm(self, row, org: str) -> bool:
        """Defence in depth: re-check the audience rule from the signed grant."""
        grant = json.loads(row.document)["grant"]
        return Audience.from_json(grant["audience"]).contains(org, self._geo)


def _audience_rule(t, values: dict | None = None):
    """The audience rules of consent.audience, as SQL for one organisation: each
    kind compares the stored reference with what today's reference data says
    about the organisation, so no audience is ever expanded into a stored list.
    The organisation's values are parameters (``ConsentGate._audience_values``),
    bound here when ``values`` are given; a value it lacks (no province, say) is
    NULL, and ``ref = NULL`` holds for no row, so that kind then admits nothing."""
    def param(name: str, kind=String, expanding: bool = False):
        if values is None:
            return bindparam(name, type_=kind, expanding=expanding)
        return bindparam(name, values[name], type_=kind, expanding=expanding)

    org = param("aud_org")
    listed = t.c.id.in_(select(A.c.disclosure_id).where(A.c.organisation == org))
    kind, ref = t.c.audience_kind, t.c.audience_ref
    return or_(
        and_(kind.in_(("organisation", "organisations")), listed),
        and_(kind == "employer", ref == org),
        and_(kind == "employer_and_neighbours",
             ref.in_(param("aud_near", expanding=True))),
        *(and_(kind == name, ref == param(f"aud_{name}"))
          for name in ("province", "corop", "safety_region", "sector")),
        and_(kind == "all_municipalities", param("aud_municipality", Boolean)),
        and_(kind == "cross_sector", param("aud_organisation", Boolean)),
    )


def _merge(rows: Iterable) -> list[VisibleProfile]:
    """One profile per holder: later disclosures (higher sequence) win per field."""
    merged: dict[str, dict] = {}
    for row in rows:
        slot = merged.setdefault(row.holder_did, {
            "pseudonym": row.pseudonym, "fields": set(), "doc": {}, "grants": [],
            "employer": None, "level": None, "hours": None, "skills": set()})
        slot["fields"].update(row.fields.split())
        _deep_update(slot["doc"], json.loads(row.projection))
        slot["grants"].append(row.grant_id)
        slot["employer"] = row.employer_code or slot["employer"]
        slot["level"] = row.level_rank if row.level_rank is not None else slot["level"]
        slot["hours"] = (row.hours_per_week if row.hours_per_week is not None
                         else slot["hours"])
        slot["skills"] = _skills_of(slot["doc"])
    return [
        VisibleProfile(s["pseudonym"], frozenset(s["fields"]), s["doc"],
                       tuple(sorted(s["grants"])), s["employer"], s["level"],
                       s["hours"], frozenset(s["skills"]))
        for s in merged.values()
    ]


def _merge_signals(rows: Iterable) -> list[Signals]:
    """One ``Signals`` per holder from match index rows (one per reach key and
    matched skill), ordered by sequence."""
    return _signals((row.pseudonym, row.disclosure_id,
                     () if row.skill is None else (row.skill,),
                     *(getattr(row, c) for c in _SIGNAL_COLUMNS)) for row in rows)


def _signals_of_disclosures(rows: Iterable, wanted: frozenset[str]) -> list[Signals]:
    """The same from disclosure rows: the wanted ones among each row's consented
    skills (those of its projection, as extracted at ingest)."""
    return _signals((row.pseudonym, row.id, wanted.intersection(_skills_of(
        json.loads(row.projection))) if "skills" in row.fields.split() else (),
        *(getattr(row, c) for c in _SIGNAL_COLUMNS)) for row in rows)


_SIGNAL_COLUMNS = ("employer_code", "level_rank", "hours_per_week",
                   "available_from", "available_until")


def _signals(items: Iterable[tuple]) -> list[Signals]:
    """Merged as ``_merge`` merges profiles: items (pseudonym, disclosure id,
    skills, columns) come ordered by sequence, so a later disclosure's non-NULL
    column wins, and the period's two ends come from one disclosure."""
    merged: dict[str, dict] = {}
    for pseudonym, disclosure_id, skills, *values in items:
        slot = merged.setdefault(pseudonym, {
            "skills": set(), "seen": set(), **dict.fromkeys(_SIGNAL_COLUMNS)})
        slot["skills"].update(skills)
        if disclosure_id in slot["seen"]:
            continue  # the same disclosure again, for another skill or reach key
        slot["seen"].add(disclosure_id)
        for column, value in zip(_SIGNAL_COLUMNS, values):
            if value is not None:
                slot[column] = value
        if values[3] is not None or values[4] is not None:
            slot["available_from"], slot["available_until"] = values[3], values[4]
    return [Signals(p, frozenset(s["skills"]), *(s[c] for c in _SIGNAL_COLUMNS))
            for p, s in merged.items() if s["skills"]]


def _skills_of(document: dict) -> set[str]:
    skills = document.get("skills")
    return set(skills) if isinstance(skills, list) else set()


def _deep_update(target: dict, source: dict) -> None:
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_update(target[key], value)
        else:
            target[key] = value


def _disclosed(requester: Requester, purpose: str, profiles: Sequence[VisibleProfile],
               now: datetime, trace_id: str, activity: str, reason: str, action: str,
               target: str) -> list:
    return _audit_records(requester, purpose, now, trace_id, activity, reason, action,
                          target, [(p.pseudonym, tuple(sorted(p.fields)), p.grant_ids)
                                   for p in profiles], "disclosed")


def _audit_records(requester: Requester, purpose: str, now: datetime, trace_id: str,
                   activity: str, reason: str, action: str, target: str,
                   subjects: list[tuple[str, tuple[str, ...], tuple[str, ...]]],
                   outcome: str) -> list:
    """The access record (BIO: who) and its entries (LDV: what, of whom), linked by
    trace id and parent span id. Each record has a span id of its own: 16 hex
    digits of 8 random bytes, all drawn at once."""
    spans = secrets.token_hex(8 * (len(subjects) + 1))
    access = AccessRecord(
        trace_id=trace_id, span_id=spans[:16], occurred_at=now,
        actor=requester.actor, organisation=requester.organisation,
        role=requester.role, action=action, target=target, result=outcome,
        origin="api", subjects=len(subjects), reason=reason)
    return [access, *entries_per_subject(
        ((spans[16 * n:16 * n + 16], subject, fields, grants)
         for n, (subject, fields, grants) in enumerate(subjects, 1)),
        trace_id=trace_id, parent_span_id=access.span_id, name=action,
        started_at=now, ended_at=now, processing_activity=activity,
        organisation=requester.organisation, purpose=purpose, outcome=outcome,
        reason=reason)]


def _check_not_headers_only(requester: Requester,
                            profiles: Sequence[VisibleProfile]) -> None:
    """Every check of the request has passed by the time it would be shown data;
    a HEAD request stops there, before anything is shown or logged."""
    if requester.headers_only and profiles:
        raise HeadersOnly()
