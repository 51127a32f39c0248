"""Employment as the employer attests it.

A holder who acts as a requester (peer search, interest groups, a team's page) is
audited and gated as a member of an organisation. Their Workcontext names an
employer, but anyone can write any employer there; an audience of one organisation
("my colleagues at Utrecht") must not open to a self-claim. So the organisation
attests its employees (by the did they give it; only the pseudonym is kept) and a
claim counts only while the attestation stands. Ending it is one call.

The organisation gets back its own reference for the employee, never the
registry's pseudonym: the pseudonym is what every organisation's candidate lists,
matches and log show, and handing it out for a did would let anyone who knows a
person's did (receipts and disclosures carry it) find that person in them.

Ending an attestation also ends the organisation's reach through the holder's grants
to "my employer" (and its neighbours), and attesting again restores it
(``registry.employment_reach``), in the same transaction. The organisation's
consent policy governs the holder's grants from the attestation to its end
(``Policies.follow_employment``), in the same transactions too.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, insert, select

from consent.errors import InvalidSignature
from consent.keys import public_key_from_did

from . import limits
from .attested import attests
from .db import transaction
from .employment_reach import lock_holder, restore_reach, withdraw_reach
from .errors_work import EmployeeNotFound, InvalidWorkInput
from .ingest import pseudonym_for
from .policies import Policies
from .policy_tables import EmploymentRow
from .tables import Holder

T_EMPLOYMENT = EmploymentRow.__table__
T_HOLDER = Holder.__table__


@dataclass(frozen=True, slots=True)
class Attested:
    reference: str  # the organisation's own reference: no one else's
    attested: datetime


class Employment:
    def __init__(self, engine: Engine, pseudonym_secret: bytes, policies: Policies):
        self._engine = engine
        self._secret = pseudonym_secret
        self._policies = policies

    def attest(self, organisation: str, did: str, now: datetime) -> Attested:
        """Idempotent: attesting an employee twice keeps the first date. A new one
        beyond the organisation's ceiling (limits.MAX_EMPLOYEES) is refused; one
        already attested is answered at the ceiling too."""
        subject = self._subject(did)
        with transaction(self._engine) as conn:
            lock_holder(conn, subject)
            row = self._attestation(conn, organisation, subject)
            if row is None:
                limits.check_room(conn, (T_EMPLOYMENT,
                                         T_EMPLOYMENT.c.organisation == organisation),
                                  limits.MAX_EMPLOYEES, "employees", organisation)
                # A request for the same did may have inserted while this one waited.
                row = self._attestation(conn, organisation, subject)
            if row is not None:
                return Attested(self._reference(organisation, subject), row.attested)
            conn.execute(insert(T_EMPLOYMENT).values(
                organisation=organisation, subject=subject, attested=now))
            restore_reach(conn, organisation, subject, self._policies)
            self._follow(conn, organisation, subject, now)
        return Attested(self._reference(organisation, subject), now)

    @staticmethod
    def _attestation(conn, organisation: str, subject: str):
        return conn.execute(select(T_EMPLOYMENT.c.attested).where(
            T_EMPLOYMENT.c.organisation == organisation,
            T_EMPLOYMENT.c.subject == subject)).first()

    def end(self, organisation: str, reference: str, now: datetime) -> None:
        """End the attestation the organisation knows by ``reference``, and its
        reach through grants to the holder's employer."""
        with transaction(self._engine) as conn:
            subjects = conn.execute(select(T_EMPLOYMENT.c.subject).where(
                T_EMPLOYMENT.c.organisation == organisation)).scalars().all()
            found = [s for s in subjects
                     if hmac.compare_digest(self._reference(organisation, s), reference)]
            if not found:
                raise EmployeeNotFound(reference)
            lock_holder(conn, found[0])
            conn.execute(delete(T_EMPLOYMENT).where(
                T_EMPLOYMENT.c.organisation == organisation,
                T_EMPLOYMENT.c.subject == found[0]))
            withdraw_reach(conn, organisation, found[0], now)
            self._follow(conn, organisation, found[0], now)

    def _follow(self, conn, organisation: str, subject: str, now: datetime) -> None:
        """The organisation's policy governs the holder's grants while it attests
        them, from the attestation to its end (``Policies.follow_employment``)."""
        did = conn.execute(select(T_HOLDER.c.did).where(
            T_HOLDER.c.pseudonym == subject)).scalar_one_or_none()
        if did is not None:  # a holder the registry holds nothing of yet
            self._policies.follow_employment(conn, organisation, did, now)

    def employees(self, organisation: str, limit: int | None = None,
                  after: str | None = None) -> list[Attested]:
        """The organisation's employees by reference, those after ``after`` (a
        reference), at most ``limit``. References are keyed hashes the database
        can not order by, so every row is read and hashed: at most MAX_EMPLOYEES,
        a few tens of milliseconds at the ceiling."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(T_EMPLOYMENT.c.subject, T_EMPLOYMENT.c.attested)
                                .where(T_EMPLOYMENT.c.organisation == organisation)
                                ).all()
        found = sorted((Attested(self._reference(organisation, r.subject), r.attested)
                        for r in rows), key=lambda a: a.reference)
        if after is not None:
            found = [a for a in found if a.reference > after]
        return found if limit is None else found[:limit]

    def _reference(self, organisation: str, subject: str) -> str:
        message = f"employee|{organisation}|{subject}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def confirms(self, organisation: str, subject: str) -> bool:
        with self._engine.connect() as conn:
            return attests(conn, organisation, subject)

    def _subject(self, did: str) -> str:
        try:
            public_key_from_did(did)
        except InvalidSignature:
            raise InvalidWorkInput(["did must be a did:key of an Ed25519 key"]) from None
        return pseudonym_for(self._secret, did)
