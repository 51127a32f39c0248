"""Reach keys, and writing the match index (``registry.tables_match``).

An audience rule refers to at most one code, so a disclosure is reachable under one
key per purpose (one per listed organisation for a list). A requesting organisation
holds the keys of every rule that contains it, computed from today's reference data
at the moment of the query, exactly as ``consent.Audience.contains`` decides:

    rule                      disclosure's key       keys of requester ``org``
    organisation(s)           org:<each listed>      org:<org>
    employer                  employer:<ref>         employer:<org>
    employer_and_neighbours   near:<ref>             near:<org>, near:<each neighbour>
    province                  province:<ref>         province:<province of org>
    corop                     corop:<ref>            corop:<COROP region of org>
    safety_region             safety_region:<ref>    safety_region:<region of org>
    all_municipalities        all_municipalities     only if org is a municipality
    sector                    sector:<ref>           sector:<sector of org>
    cross_sector              cross_sector           only if org is known
    (suspended by employer)   suspended:<employer>   suspended:<org>
    (suspended, the rest)     suspended              none

The last two are the keys of a disclosure its holder's employer's policy
suspended (``registry.suspension``): it stays visible to that employer alone,
when its audience contains it, and to no other requester.
A disclosure hidden because the employer its audience names ended the employment
(``registry.employment_reach``) has only ``suspended`` keys: no requester holds one.

A disclosure is visible to ``org`` for a purpose when one of its keys is one of the
requester's keys for that purpose; a test checks this against ``Audience.contains``
for every organisation in the reference data. The keys are prefixed with the
purpose (``matching|province:PV26``), stored once in ``match_term`` and referred
to by integer id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

from sqlalchemy import Connection, insert, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from consent import Audience, Geography, corop_of, safety_region_of, sector_of

from .extract import Extracted
from .tables_match import MatchDisclosure, MatchSkill, MatchTerm

TERM = MatchTerm.__table__
MD = MatchDisclosure.__table__
MS = MatchSkill.__table__
_CHUNK = 500  # terms per IN list


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """What the index keeps of one stored disclosure."""

    disclosure_id: int
    pseudonym: str
    sequence: int
    valid_from: datetime
    valid_until: datetime
    audience_kind: str
    audience_ref: str | None
    organisations: tuple[str, ...]
    purposes: tuple[str, ...]
    columns: Extracted


def entry_for(disclosure_id: int, pseudonym: str, sequence: int, grant,
              columns: Extracted) -> IndexEntry:
    """The entry of a disclosure stored under ``grant`` (a ``consent.Grant``)."""
    audience: Audience = grant.audience
    return IndexEntry(disclosure_id, pseudonym, sequence, grant.valid_from,
                      grant.valid_until, audience.kind, audience.ref,
                      tuple(audience.organisations), tuple(grant.purposes), columns)


# The reach key of a suspended disclosure's rows that no requester holds.
SUSPENDED = "suspended"


def suspended_key(employer: str) -> str:
    """The reach key of a disclosure suspended by ``employer``'s policy that only
    that employer holds."""
    return f"suspended:{employer}"


def audience_keys(kind: str, ref: str | None,
                  organisations: Iterable[str] = ()) -> list[str]:
    """The reach keys of one audience rule (without the purpose)."""
    if kind in ("organisation", "organisations"):
        return [f"org:{o}" for o in sorted(set(organisations))]
    if kind in ("all_municipalities", "cross_sector"):
        return [kind]
    name = "near" if kind == "employer_and_neighbours" else kind
    return [f"{name}:{ref}"]


def requester_keys(org: str, geo: Geography) -> list[str]:
    """The reach keys of every audience rule that contains ``org`` today."""
    keys = [f"org:{org}", f"employer:{org}", suspended_key(org)]
    keys += [f"near:{code}" for code in sorted(geo.neighbours(org) | {org})]
    for kind, value in (("province", geo.province_of(org)),
                        ("corop", corop_of(org, geo)),
                        ("safety_region", safety_region_of(org, geo)),
                        ("sector", sector_of(org, geo))):
        if value is not None:
            keys.append(f"{kind}:{value}")
    if geo.is_municipality(org):
        keys.append("all_municipalities")
    if geo.has_organisation(org):
        keys.append("cross_sector")
    return keys


def reach_terms(purpose: str, keys: Iterable[str]) -> list[str]:
    return [f"{purpose}|{key}" for key in keys]


# The column order of the rows ``index_rows`` makes.
MD_COLUMNS = ("reach", "pseudonym", "disclosure_id", "valid_from", "valid_until",
              "sequence", "employer_code", "level_rank", "hours_per_week",
              "available_from", "available_until")
MS_COLUMNS = ("reach", "pseudonym", "disclosure_id", "valid_from", "valid_until",
              "skill")


def write_entries(conn: Connection, entries: Sequence[IndexEntry]) -> None:
    """Add the index rows of freshly stored disclosures, in the caller's
    transaction (the disclosure and its index rows commit together)."""
    rows, skills = index_rows(conn, entries)
    if rows:
        conn.execute(insert(MD), [dict(zip(MD_COLUMNS, r)) for r in rows])
    if skills:
        conn.execute(insert(MS), [dict(zip(MS_COLUMNS, r)) for r in skills])


def index_rows(conn: Connection, entries: Sequence[IndexEntry]
               ) -> tuple[list[tuple], list[tuple]]:
    """The rows of ``match_disclosure`` and ``match_skill`` for ``entries``, as
    tuples in the order of MD_COLUMNS and MS_COLUMNS (new terms are added); bulk
    ingest writes them with its own fast path."""
    if not entries:
        return [], []
    reach = {e.disclosure_id: [
        t for p in e.purposes for t in reach_terms(p, audience_keys(
            e.audience_kind, e.audience_ref, e.organisations))] for e in entries}
    terms = {t for ts in reach.values() for t in ts}
    terms |= {s for e in entries for s in e.columns.skills}
    ids = term_ids(conn, terms)
    rows, skills = [], []
    for e in entries:
        c = e.columns
        skill_ids = [ids[s] for s in c.skills]
        for term in reach[e.disclosure_id]:
            live = (ids[term], e.pseudonym, e.disclosure_id, e.valid_from,
                    e.valid_until)
            rows.append((*live, e.sequence, c.employer_code, c.level_rank,
                         c.hours_per_week, c.available_from, c.available_until))
            skills += [(*live, skill) for skill in skill_ids]
    return rows, skills


def term_ids(conn: Connection, terms: Iterable[str]) -> dict[str, int]:
    """The id of every term, adding the new ones. Two writers adding the same term
    at once both end up with the one row (the second insert does nothing)."""
    wanted = sorted(set(terms))
    found = _read_terms(conn, wanted)
    missing = [t for t in wanted if t not in found]
    if missing:
        conn.execute(_dialect_insert(conn)(TERM).on_conflict_do_nothing(
            index_elements=["term"]), [{"term": t} for t in missing])
        found.update(_read_terms(conn, missing))
    return found


def _dialect_insert(conn: Connection):
    """The dialect's INSERT, which can skip a duplicate. PostgreSQL's is imported
    here, where its engine has loaded the dialect already: a registry on SQLite
    never holds that dialect's 2 MB of code."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    return sqlite_insert


def _read_terms(conn: Connection, terms: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(terms), _CHUNK):
        chunk = terms[start:start + _CHUNK]
        rows = conn.execute(select(TERM.c.term, TERM.c.id).where(
            TERM.c.term.in_(chunk))).all()
        found.update((term, id_) for term, id_ in rows)
    return found
