"""Receiving disclosures and withdrawals from pods (DESIGN.md invariants 1, 3 and 9).

A disclosure is stored only after its holder signature (which covers the embedded
grant and its proof, ``consent.grant.grant_in_signed_document``), its grant's
liveness, and the subset rule (projection fields within the grant) have been checked.
Everything for one document happens in one transaction: a refused document changes
nothing, except one refused because its grant's audience no longer fits the holder's
employer (``Policies.retract``): the holder's newer signed Workcontext then ends
what the grant disclosed before. Replays are refused by a per-holder sequence number
that only moves forward, advanced with a compare-and-set so that concurrent workers
cannot both accept one.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import Connection, Engine, delete, insert, select, update

from consent import (
    Geography,
    InvalidGrant,
    disclosed_fields,
    read_disclosure,
    read_withdrawal,
)
from schemas import InvalidDocument, Validated, WorkcontextValidator, check_references

from .db import transaction
from .employment_reach import ended_grant
from .errors import GrantIdTaken, GrantNotLive, GrantWithdrawn, ReplayedDocument
from .extract import Extracted, extract
from .match_index import entry_for, write_entries
from .policies import Policies
from .suspension import hide, suspend
from .tables import CHILD_TABLES, Disclosure, DisclosureAudience, DisclosurePurpose
from .tables import DisclosureSkill, ErasedHolder, Holder, WithdrawnGrant
from .video_shares import check_own_share, drop_for_grant, named_share
from .withdrawn import withdrawn_among

T_DISCLOSURE = Disclosure.__table__
T_HOLDER = Holder.__table__
CLOCK_SKEW = timedelta(minutes=5)
T_WITHDRAWN = WithdrawnGrant.__table__
T_ERASED = ErasedHolder.__table__


@dataclass(frozen=True, slots=True)
class Accepted:
    holder_pseudonym: str
    grant_id: str
    fields: tuple[str, ...]
    # Copies of the intro video this disclosure ended (their files are swept).
    videos_dropped: int = 0
    # Whether it added a grant the registry held nothing of (a new holder always
    # comes with one), rather than replacing one it held.
    created: bool = False


def pseudonym_for(secret: bytes, did: str) -> str:
    """The registry's pseudonym for a holder: keyed (one key per deployment), so it
    can not be recomputed from the did by anyone without the key."""
    return hmac.digest(secret, did.encode("utf-8"), "sha256").hex()[:32]


class Ingest:
    def __init__(self, engine: Engine, geo: Geography, tooi_to_code: Mapping[str, str],
                 pseudonym_secret: bytes,
                 validator: WorkcontextValidator | None = None,
                 policies: Policies | None = None):
        self._engine = engine
        self._validator = validator or WorkcontextValidator()
        self._policies = policies or Policies(engine, geo, tooi_to_code)
        self._geo = geo
        self._tooi = tooi_to_code
        self._secret = pseudonym_secret

    def disclosure(self, document: Any, now: datetime) -> Accepted:
        found = read_disclosure(document)
        # A grant whose period has not begun is stored and shown from its start
        # (the gate checks validFrom); one that has ended is refused.
        if found.grant.valid_until <= now:
            raise GrantNotLive(found.grant.id)
        _check_issued(found.issued, now)
        found.grant.audience.check_known(self._geo)
        columns = self.check_projection(found.workcontext, found.fields, found.holder)
        employer = self._policies.employer_code(found.employer)
        pseudonym = pseudonym_for(self._secret, found.holder)
        created = False
        with transaction(self._engine) as conn:
            self._advance(conn, found.holder, pseudonym, found.sequence)
            _check_grant_usable(conn, self._secret, found.grant.id, found.holder)
            check_own_share(conn, named_share(found.fields, found.workcontext),
                            found.grant.id, found.holder)
            refusal = self._policies.refusal(conn, employer, found.grant.audience,
                                             pseudonym)
            # Under a grant this employer's policy suspended, the new projection
            # replaces the old and stays suspended (committed, then refused): a
            # holder's save must not end what the policy only suspended, or the
            # employer could watch its employees vanish one save at a time.
            held = self._policies.keeps_suspended(conn, found.holder, found.grant.id,
                                                  employer, refusal)
            # Under a grant hidden because the employer it names ended the
            # employment, the new projection is hidden too: a save is not an
            # attestation (registry.employment_reach).
            ended = ended_grant(conn, found.grant.id, found.holder)
            if refusal is not None and not held:
                # The holder's newest signed word: the grant no longer fits the
                # Workcontext, so what it disclosed before goes too (committed),
                # the copy of the intro video with it. With nothing to end, the
                # refusal changes nothing (rolled back).
                if not self._policies.retract(conn, found.holder, found.grant.id,
                                              found.grant.audience, employer,
                                              refusal, now):
                    raise refusal
                drop_for_grant(conn, found.grant.id, found.holder)
            else:
                created = not _delete_grant(conn, found.grant.id, found.holder)
                # A copy of the intro video the new projection no longer names (a
                # new video, or no video) ends with the old projection.
                dropped = drop_for_grant(conn, found.grant.id, found.holder,
                                         keep=named_share(found.fields,
                                                          found.workcontext))
                disclosure_id = _insert(conn, found, columns, now, employer)
                _insert_children(conn, disclosure_id, found, columns.skills)
                write_entries(conn, [entry_for(disclosure_id, pseudonym, found.sequence,
                                               found.grant, columns)])
                if held:
                    suspend(conn, disclosure_id, employer, found.grant.audience,
                            self._geo)
                if ended:
                    hide(conn, disclosure_id)
        if refusal is not None:
            raise refusal
        return Accepted(pseudonym, found.grant.id, tuple(sorted(found.fields)),
                        dropped, created)

    def check_projection(self, workcontext: dict[str, Any], fields: frozenset[str],
                         holder: str) -> Extracted:
        """Every check a projection must pass before it is stored (invariant 9): the
        registry serves these values to organisations. A pod runs the same checks on
        the whole Workcontext before it saves a version (``check_workcontext``), so
        a version it keeps is one the registry will take under any grant."""
        self._validator.check_structure(workcontext, holder)
        check_references(self._geo, workcontext)
        return extract(workcontext, fields, self._tooi)

    def check_workcontext(self, document: Any, holder: str) -> None:
        """The projection checks applied to every field ``document`` holds: those
        of ``check_projection``, with the structure checked once, before the
        fields are read from it. A ``Validated`` document whose structure and
        references this registry's own validator and reference data checked
        already (a pod in the same process, before a save) is not walked again."""
        if isinstance(document, Validated):
            done = document.covers(self._validator, self._geo, holder)
            document = document.document
        else:
            done = False
        if not done:
            self._validator.check_structure(document, holder)
            check_references(self._geo, document)
        try:
            extract(document, disclosed_fields(document), self._tooi)
        except InvalidGrant as exc:  # a document's fault here: no grant is involved
            raise InvalidDocument(exc.problems) from exc

    def withdrawal(self, document: Any, now: datetime) -> str:
        found = read_withdrawal(document)
        _check_issued(found.issued, now)
        pseudonym = pseudonym_for(self._secret, found.holder)
        with transaction(self._engine) as conn:
            try:
                # A holder the registry never saw gets no row here: nothing of
                # theirs is held for a sequence number to protect (see below).
                self._advance(conn, found.holder, pseudonym, found.sequence,
                              create=False)
            except ReplayedDocument:
                # The pod numbers a document before it sends it, so one numbered
                # after this withdrawal may have arrived first. A withdrawal only
                # ever ends its grant, for good: it counts whenever it arrives,
                # unless it was signed before the holder was erased here.
                if found.sequence <= erased_floor(conn, pseudonym):
                    raise
            _check_grant_owner(conn, found.grant_id, found.holder)
            _delete_grant(conn, found.grant_id, found.holder)
            drop_for_grant(conn, found.grant_id, found.holder)
            # Kept for a grant the registry never held too: its first disclosure
            # may still be on its way (a pod withdraws a grant whose publication
            # it never saw confirmed), and must then be refused, for good (GDPR
            # art. 7(3)). One small row per withdrawal; what one client may send
            # is bounded where the request comes in (pod/creations.py, Creations).
            if conn.execute(select(T_WITHDRAWN.c.grant_id).where(
                    T_WITHDRAWN.c.grant_id == found.grant_id)).first() is None:
                conn.execute(insert(T_WITHDRAWN).values(grant_id=found.grant_id,
                                                        holder_did=found.holder))
        return found.grant_id

    def last_sequence(self, did: str) -> int:
        pseudonym = pseudonym_for(self._secret, did)
        with transaction(self._engine) as conn:
            last = conn.execute(select(T_HOLDER.c.last_sequence).where(
                T_HOLDER.c.did == did)).scalar_one_or_none()
            return max(last or 0, erased_floor(conn, pseudonym))

    def _advance(self, conn: Connection, did: str, pseudonym: str, sequence: int,
                 create: bool = True) -> None:
        """Move the holder's sequence number to ``sequence``, or refuse it as a
        replay; a holder without a row gets one unless ``create`` is False."""
        moved = conn.execute(
            update(T_HOLDER)
            .where(T_HOLDER.c.did == did, T_HOLDER.c.last_sequence < sequence)
            .values(last_sequence=sequence)
        ).rowcount
        if moved == 1:
            return
        last = conn.execute(
            select(T_HOLDER.c.last_sequence).where(T_HOLDER.c.did == did)
        ).scalar_one_or_none()
        if last is not None:
            raise ReplayedDocument(sequence, last)
        floor = erased_floor(conn, pseudonym)
        if sequence <= floor:
            raise ReplayedDocument(sequence, floor)
        if not create:
            return
        conn.execute(insert(T_HOLDER).values(did=did, pseudonym=pseudonym,
                                             last_sequence=sequence))


def _check_issued(issued: datetime, now: datetime) -> None:
    """A document from the future is refused: clocks may drift, but not by hours."""
    if issued > now + CLOCK_SKEW:
        raise InvalidGrant(["issued lies in the future"])


def erased_floor(conn: Connection, pseudonym: str) -> int:
    """A holder erased here starts again above the erasure's sequence number, so an
    old signed document captured before the erasure is still a replay."""
    floor = conn.execute(select(T_ERASED.c.last_sequence).where(
        T_ERASED.c.pseudonym == pseudonym)).scalar_one_or_none()
    return floor or 0


def _check_grant_usable(conn: Connection, secret: bytes, grant_id: str,
                        holder: str) -> None:
    _check_grant_owner(conn, grant_id, holder)
    if withdrawn_among(conn, secret, [grant_id]):
        raise GrantWithdrawn(grant_id)


def _check_grant_owner(conn: Connection, grant_id: str, holder: str) -> None:
    """Grant ids are global: one used by another holder is a client error."""
    for table in (T_DISCLOSURE, T_WITHDRAWN):
        owner = conn.execute(select(table.c.holder_did).where(
            table.c.grant_id == grant_id).limit(1)).scalar_one_or_none()
        if owner is not None and owner != holder:
            raise GrantIdTaken(grant_id)


def _delete_grant(conn: Connection, grant_id: str, holder: str) -> int:
    """Delete what the registry holds of a grant: how many disclosures it was."""
    ids = select(T_DISCLOSURE.c.id).where(
        T_DISCLOSURE.c.grant_id == grant_id, T_DISCLOSURE.c.holder_did == holder
    )
    for table in CHILD_TABLES:
        t = table.__table__
        conn.execute(delete(t).where(t.c.disclosure_id.in_(ids)))
    return conn.execute(delete(T_DISCLOSURE).where(
        T_DISCLOSURE.c.grant_id == grant_id,
        T_DISCLOSURE.c.holder_did == holder)).rowcount


def _insert(conn: Connection, found, columns, now: datetime,
            employer: str | None) -> int:
    audience = found.grant.audience
    result = conn.execute(insert(T_DISCLOSURE).values(
        grant_id=found.grant.id,
        holder_did=found.holder,
        sequence=found.sequence,
        audience_kind=audience.kind,
        audience_ref=audience.ref,
        valid_from=found.grant.valid_from,
        valid_until=found.grant.valid_until,
        fields=" ".join(sorted(found.fields)),
        projection=json.dumps(found.workcontext, ensure_ascii=False),
        document=json.dumps(found.document, ensure_ascii=False),
        employer_code=columns.employer_code,
        level_rank=columns.level_rank,
        hours_per_week=columns.hours_per_week,
        available_from=columns.available_from,
        available_until=columns.available_until,
        received=now,
        policy_employer=employer,
        video_share=named_share(found.fields, found.workcontext),
    ))
    return result.inserted_primary_key[0]


def _insert_children(conn: Connection, disclosure_id: int, found, skills) -> None:
    rows = {
        DisclosurePurpose: [{"disclosure_id": disclosure_id, "purpose": p}
                            for p in found.grant.purposes],
        DisclosureAudience: [{"disclosure_id": disclosure_id, "organisation": o}
                             for o in found.grant.audience.organisations],
        DisclosureSkill: [{"disclosure_id": disclosure_id, "skill": s} for s in skills],
    }
    for table, values in rows.items():
        if values:
            conn.execute(insert(table.__table__), values)
