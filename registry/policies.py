"""Employer policies and legal bases, as the registry keeps and applies them.

An employer's policy governs the grants of the holders it attests as employees,
while it attests them (``registry.attested``): the employer a Workcontext names is
the holder's own claim. A disclosure whose grant the holder's attesting employer
does not allow is refused at ingest with the policy's reason. When an employer
tightens its policy, every stored grant it governs that the new policy refuses is
suspended in the same transaction as the policy change, and the holder gets a
notice their pod can fetch. A suspended disclosure is kept but shown to no
organisation other than that employer, and to it only when the grant's audience
contains it (``registry.suspension`` says why); when a later policy of the
employer allows the grant again, the suspension is lifted and the disclosure is
shown to its whole audience again, without the holder publishing anew; the notice
records when (``Notice.lifted``), for the holder's consent history. Attesting an
employee applies the policy to their stored grants as a policy change does;
ending the employment lifts what it suspended of theirs (``follow_employment``,
in the transaction that attests or ends it). The grant stays the holder's
throughout: withdrawal, expiry and erasure end a suspended disclosure as they end
any other.

What the employer sees of all this is its own policy and nothing else: not how many
grants it suspended, not which grants to other organisations exist, were refused or
withdrawn (EDPB Guidelines 05/2020, section 3.1.1). Its own candidate lists do not
change with its policy, so narrowing the policy does not tell it which candidates
are its employees (a grant to a pool names no employer, and the holder may have
left ``employer`` out of the fields).

A holder who publishes again under a suspended grant while the policy still
refuses it gets the refusal, and the new projection replaces the suspended one and
stays suspended (``keeps_suspended``): deleting it would show the employer its
employees vanishing one save at a time, and keeping the old one would show it a
projection the holder replaced. Bulk ingest follows the same rule
(``stays_suspended``, ``registry.bulk_state``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Mapping

from sqlalchemy import Connection, Engine, delete, func, insert, or_, select, update

from consent import (
    Audience,
    AudienceNeedsEmployer,
    AudienceRefusedByEmployer,
    ConsentError,
    EmployerPolicy,
    InvalidAudience,
    Geography,
    InvalidPolicy,
    check_audience_for_holder,
    format_time,
)
from consent.record import LEGAL_BASES
from schemas import PURPOSES

from .attested import attested_dids, attests
from .db import transaction
from .errors import UnknownEmployer
from .policy_tables import EmployerPolicyRow, LegalBasisRow, PolicyNotice
from .suspension import lift, suspend
from .tables import CHILD_TABLES, Disclosure, Holder

D = Disclosure.__table__
H = Holder.__table__
POLICY = EmployerPolicyRow.__table__
BASIS = LegalBasisRow.__table__
NOTICE = PolicyNotice.__table__



@dataclass(frozen=True, slots=True)
class Notice:
    grant_id: str
    organisation: str
    reason: str
    created: datetime
    # When a later policy of the organisation, or the end of the holder's
    # employment there, lifted the suspension, if one did.
    lifted: datetime | None = None

    def to_json(self) -> dict:
        shown = {"type": "GrantSuspended", "grant": self.grant_id,
                 "organisation": self.organisation, "reason": self.reason,
                 "created": format_time(self.created)}
        if self.lifted is not None:
            shown["lifted"] = format_time(self.lifted)
        return shown


class Policies:
    def __init__(self, engine: Engine, geo: Geography, tooi_to_code: Mapping[str, str]):
        self._engine = engine
        self._geo = geo
        self._tooi = tooi_to_code

    @property
    def geography(self) -> Geography:
        return self._geo

    def employer_code(self, identifier: str | None) -> str | None:
        """The code of the employer a disclosure names (a TOOI identifier)."""
        if identifier is None:
            return None
        code = self._tooi.get(identifier)
        if code is None:
            raise UnknownEmployer()
        return code

    def admit(self, conn: Connection, employer: str | None, audience: Audience,
              subject: str) -> None:
        """Refuse (with the reason) an audience the employer's policy does not allow.
        An employer audience must name the employer the disclosure names, or a kind
        the policy allows could reach an organisation it does not."""
        refusal = self.refusal(conn, employer, audience, subject)
        if refusal is not None:
            raise refusal

    def refusal(self, conn: Connection, employer: str | None, audience: Audience,
                subject: str) -> ConsentError | None:
        """What ``admit`` raises for this employer and audience, or None. The
        employer's policy counts only if it attests the holder (``subject``, their
        pseudonym): naming an employer is the holder's own claim
        (``registry.attested``)."""
        policy = self._read(conn, employer) if employer else None
        if policy is not None and not attests(conn, policy.organisation, subject):
            policy = None
        return self.refusal_under(policy, employer, audience)

    def refusal_under(self, policy: EmployerPolicy | None, employer: str | None,
                      audience: Audience) -> ConsentError | None:
        """``refusal`` with the employer's policy read already (bulk ingest reads
        a batch's policies in one query, ``of_employers``)."""
        try:
            if employer is not None:  # a disclosure of the first form names none
                check_audience_for_holder(audience, employer)
            if policy is not None:
                policy.check(audience, self._geo)
        except (AudienceRefusedByEmployer, AudienceNeedsEmployer,
                InvalidAudience) as exc:
            return exc
        return None

    def retract(self, conn: Connection, holder_did: str, grant_id: str,
                audience: Audience, employer: str | None, refusal: ConsentError,
                now: datetime, pending: bool = False) -> bool:
        """A newer Workcontext of the holder is refused under the grant (the holder
        changed employer): the projection of the former one is deleted, not kept
        serving stale data (an employer the holder left, skills of before), and the
        holder gets a notice with the reason, as a policy change suspends a grant.
        Returns whether there was a projection to end: one stored, or (``pending``)
        one a bulk load took earlier in the same batch and drops itself. The grant
        comes back when a later Workcontext is taken under it (the holder moves
        back).

        The notice names the employer whose policy refused, or the employer the
        grant's audience names, whom the holder no longer works for. A projection
        that employer's policy suspended already goes too (it would show the
        employer one the holder replaced), without a second notice."""
        rows = conn.execute(select(D.c.id, D.c.suspended_by).where(
            D.c.grant_id == grant_id, D.c.holder_did == holder_did)).all()
        if not rows and not pending:
            return False
        for row in rows:
            _delete_disclosure(conn, row.id)
        organisation, reason = _retraction(audience, employer, refusal)
        if not rows or not isinstance(refusal, AudienceRefusedByEmployer) or any(
                r.suspended_by != organisation for r in rows):
            conn.execute(insert(NOTICE).values(
                holder_did=holder_did, grant_id=grant_id, organisation=organisation,
                reason=reason[:500], created=now))
        return True

    def keeps_suspended(self, conn: Connection, holder_did: str, grant_id: str,
                        employer: str | None, refusal: ConsentError | None) -> bool:
        """Whether a newer disclosure under the grant, refused by ``refusal``,
        replaces a stored one and stays suspended: the refusal is the policy of
        the employer whose policy suspended the stored one (the holder did not
        change employer)."""
        if not stays_suspended(refusal, employer, employer):
            return False
        return conn.execute(select(D.c.id).where(
            D.c.grant_id == grant_id, D.c.holder_did == holder_did,
            D.c.suspended_by == employer).limit(1)).first() is not None

    def policy(self, organisation: str) -> EmployerPolicy | None:
        with transaction(self._engine) as conn:
            return self._read(conn, organisation)

    def set_policy(self, policy: EmployerPolicy, now: datetime) -> None:
        """Store ``policy`` and, in the same transaction, suspend every grant it
        now refuses (each holder concerned gets a notice) and lift the suspension
        of every grant it allows again."""
        body = json.dumps(policy.to_json())
        with transaction(self._engine) as conn:
            moved = conn.execute(update(POLICY).where(
                POLICY.c.organisation == policy.organisation).values(
                policy=body, updated=now)).rowcount
            if not moved:
                conn.execute(insert(POLICY).values(
                    organisation=policy.organisation, policy=body, updated=now))
            self._apply(conn, policy, now)

    def suspended(self, holder_did: str) -> frozenset[str]:
        """Grant ids a policy suspended and that are not shown again: a notice
        exists and the registry holds no disclosure under the grant, or one that
        is still suspended."""
        noticed = select(NOTICE.c.grant_id).where(NOTICE.c.holder_did == holder_did)
        present = select(D.c.grant_id).where(D.c.holder_did == holder_did,
                                             D.c.suspended_by.is_(None))
        with transaction(self._engine) as conn:
            return frozenset(conn.execute(noticed).scalars()) - frozenset(
                conn.execute(present).scalars())

    def notices(self, holder_did: str) -> list[Notice]:
        query = select(NOTICE).where(NOTICE.c.holder_did == holder_did).order_by(
            NOTICE.c.id)
        with transaction(self._engine) as conn:
            rows = conn.execute(query).all()
        return [Notice(r.grant_id, r.organisation, r.reason, r.created, r.lifted)
                for r in rows]

    def declare_basis(self, organisation: str, purpose: str, basis: str,
                      now: datetime) -> None:
        """Record the organisation's own legal basis for ``purpose``: GDPR art.
        6(1)(e) (``public_task``) or 6(1)(b) (``employee_request``)."""
        if purpose not in PURPOSES:
            raise InvalidPolicy(f"purpose {purpose!r} is not known")
        if basis not in LEGAL_BASES:
            raise InvalidPolicy(f"basis must be one of {', '.join(LEGAL_BASES)}")
        with transaction(self._engine) as conn:
            conn.execute(delete(BASIS).where(BASIS.c.organisation == organisation,
                                             BASIS.c.purpose == purpose))
            conn.execute(insert(BASIS).values(organisation=organisation,
                                              purpose=purpose, basis=basis,
                                              declared=now))

    def bases(self, organisation: str) -> dict[str, str]:
        query = select(BASIS.c.purpose, BASIS.c.basis).where(
            BASIS.c.organisation == organisation)
        with transaction(self._engine) as conn:
            return {purpose: basis for purpose, basis in conn.execute(query).all()}

    def bases_for(self, audience: Audience, purposes: tuple[str, ...]
                  ) -> list[tuple[str, str, str]]:
        """(organisation, purpose, basis) for every organisation in ``audience``
        that declared a basis for one of ``purposes``."""
        query = select(BASIS).where(BASIS.c.purpose.in_(purposes)).order_by(
            BASIS.c.organisation, BASIS.c.purpose)
        with transaction(self._engine) as conn:
            rows = conn.execute(query).all()
        return [(r.organisation, r.purpose, r.basis) for r in rows
                if audience.contains(r.organisation, self._geo)]

    def of_employers(self, conn: Connection, organisations: Iterable[str]
                     ) -> dict[str, EmployerPolicy]:
        """The policies of ``organisations`` that have one, read and locked as
        ``_read`` reads and locks one (for bulk ingest)."""
        codes = sorted(set(organisations))
        if not codes:
            return {}
        rows = conn.execute(select(POLICY.c.organisation, POLICY.c.policy).where(
            POLICY.c.organisation.in_(codes)).order_by(POLICY.c.organisation)
            .with_for_update()).all()
        return {org: EmployerPolicy.from_json(org, _without_org(body), self._geo)
                for org, body in rows}

    def _read(self, conn: Connection, organisation: str) -> EmployerPolicy | None:
        # FOR UPDATE: an ingest and a policy change on the same employer serialise
        # on this row, so a grant admitted under the old policy is stored before
        # the change scans for grants to suspend (PostgreSQL; SQLite writes are
        # serial anyway). A first policy has no row to lock yet: a disclosure
        # racing the very first policy of its employer is caught at the next
        # policy change.
        body = conn.execute(select(POLICY.c.policy).where(
            POLICY.c.organisation == organisation).with_for_update()
        ).scalar_one_or_none()
        if body is None:
            return None
        return EmployerPolicy.from_json(organisation, _without_org(body), self._geo)

    def follow_employment(self, conn: Connection, organisation: str,
                          holder_did: str, now: datetime) -> None:
        """Apply ``organisation``'s policy to the holder's disclosures as their
        employment there now stands, in the caller's transaction (the one that
        attests or ends it): an employee just attested has what the policy
        refuses suspended, with a notice, as a policy change would; a holder whose
        employment just ended has what the policy suspended lifted, the lift
        recorded on the notice."""
        policy = self._read(conn, organisation)
        if policy is not None:  # without a policy it suspended nothing
            self._apply(conn, policy, now, holder_did)

    def _apply(self, conn: Connection, policy: EmployerPolicy, now: datetime,
               holder_did: str | None = None) -> None:
        """Suspend the stored grants ``policy`` refuses of the employees it
        attests and lift the suspension of those it allows again, or whose
        holder it no longer attests (all holders, or ``holder_did``); a grant
        suspended already gets no second notice."""
        organisation = policy.organisation
        employees = attested_dids(organisation)  # at most limits.MAX_EMPLOYEES
        query = select(D.c.id, D.c.grant_id, D.c.holder_did, D.c.document,
                       D.c.suspended_by).where(
            D.c.policy_employer == organisation,
            or_(D.c.holder_did.in_(employees), D.c.suspended_by == organisation))
        if holder_did is not None:
            query = query.where(D.c.holder_did == holder_did)
            employees = employees.where(H.c.did == holder_did)
        attested = set(conn.execute(employees).scalars())
        rows = conn.execute(query.order_by(D.c.id)).all()
        for row in rows:
            audience = Audience.from_json(json.loads(row.document)["grant"]["audience"])
            reason = (policy.refusal(audience, self._geo)
                      if row.holder_did in attested else None)
            if reason is None and row.suspended_by == organisation:
                lift(conn, row.id, audience)
                _record_lift(conn, row.holder_did, row.grant_id, organisation, now)
            elif reason is not None and row.suspended_by is None:
                suspend(conn, row.id, organisation, audience, self._geo)
                conn.execute(insert(NOTICE).values(
                    holder_did=row.holder_did, grant_id=row.grant_id,
                    organisation=organisation, reason=reason[:500], created=now))


def stays_suspended(refusal: ConsentError | None, employer: str | None,
                    suspended_by: str | None) -> bool:
    """The rule of ``Policies.keeps_suspended``, for a grant whose stored
    disclosure ``suspended_by``'s policy suspended (None: not suspended): single
    and bulk ingest both decide by it."""
    return (isinstance(refusal, AudienceRefusedByEmployer) and employer is not None
            and refusal.employer == employer and suspended_by == employer)


def _retraction(audience: Audience, employer: str | None,
                refusal: ConsentError) -> tuple[str, str]:
    """Who a retraction concerns and why, in the words of a policy's refusal."""
    if isinstance(refusal, AudienceRefusedByEmployer):
        return refusal.employer, refusal.reason
    named = audience.employer or ""
    now_named = f"names employer {employer}" if employer else "names no employer"
    return named, (f"the grant's audience is employer {named}, and the Workcontext "
                   f"{now_named} now: a grant to an employer does not follow the "
                   "holder to another")


def _record_lift(conn: Connection, holder_did: str, grant_id: str,
                 organisation: str, now: datetime) -> None:
    """Mark the notice of the suspension just lifted: the newest of the grant's
    notices from ``organisation`` not lifted yet (a grant suspended again after
    a lift has a notice per suspension)."""
    newest = select(func.max(NOTICE.c.id)).where(
        NOTICE.c.holder_did == holder_did, NOTICE.c.grant_id == grant_id,
        NOTICE.c.organisation == organisation, NOTICE.c.lifted.is_(None)
    ).scalar_subquery()
    conn.execute(update(NOTICE).where(NOTICE.c.id == newest).values(lifted=now))


def _without_org(body: str) -> dict:
    data = json.loads(body)
    data.pop("organisation", None)
    return data


def _delete_disclosure(conn: Connection, disclosure_id: int) -> None:
    for table in CHILD_TABLES:
        t = table.__table__
        conn.execute(delete(t).where(t.c.disclosure_id == disclosure_id))
    conn.execute(delete(D).where(D.c.id == disclosure_id))
