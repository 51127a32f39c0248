"""The registry-state rules of ``Ingest.disclosure``, applied to a batch of bulk ingest.

The documents of a batch are taken in the order they were given, as single ingest
takes them one after the other, and each meets the rules in single ingest's order:

1. its sequence number must move its holder's forward (above the erasure's for a
   holder erased here), else ``replayed-document``;
2. its grant id must not belong to another holder, in a disclosure or a
   withdrawal, else ``grant-id-taken``;
3. its grant must not have been withdrawn (withdrawn.py), else ``grant-withdrawn``;
4. its audience must fit the holder's employer and, if that employer attests
   the holder (``registry.attested``), its policy (``Policies.refusal_under``),
   else it is refused with the policy's reason, and when the grant disclosed
   something before (stored, or taken earlier in the same batch) that is
   retracted (``Policies.retract``): the refused document still moves the
   holder's sequence number, as the one-by-one path commits it. Refused
   by the policy that suspended the grant's disclosure (``stays_suspended``), it is
   taken instead and suspended as that one was (``Admitted.suspended``).

The state is read with a few set queries per batch, once the batch's holders'
rows are locked (``lock_holders``) as single ingest locks its holder's, and kept
up to date in memory as the batch is walked, so a later document of the batch
sees what an earlier one did. A re-published grant replaces its old rows
(``drop_replaced``); one whose stored rows an ended employment hid is hidden
again once stored (``Admitted.ended``, ``registry.employment_reach``), as one by
one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, delete, select

from consent import Audience, ConsentError, EmployerPolicy, ProjectionMismatch

from .attested import attested_pairs
from .bulk_checks import CHECKED_COLUMNS, Checked
from .db import among
from .employment_reach import ended_grants
from .policies import Policies, stays_suspended
from .tables import CHILD_TABLES, Disclosure, ErasedHolder, Holder, WithdrawnGrant
from .video_shares import check_own_share, drop_for_grant, drop_for_grants
from .withdrawn import withdrawn_among

D, H = Disclosure.__table__, Holder.__table__
E, W = ErasedHolder.__table__, WithdrawnGrant.__table__
_SHARE = CHECKED_COLUMNS.index("video_share")


@dataclass
class Admitted:
    """What a batch stores: the documents taken (the last of each grant), the
    refused ones that retracted a grant, whose sequence numbers still count, and
    by grant id the documents taken that stay suspended, refused by the policy of
    the employer that suspended the grant (stored once ``kept`` is)."""

    kept: list[tuple[int, Checked]] = field(default_factory=list)
    advanced: list[Checked] = field(default_factory=list)
    suspended: dict[str, Checked] = field(default_factory=dict)
    # Grant ids of kept documents whose stored rows an ended employment hid.
    ended: set[str] = field(default_factory=set)


@dataclass
class StateRules:
    secret: bytes
    policies: Policies
    now: datetime


def against_state(conn: Connection, rules: StateRules,
                  good: list[tuple[int, Checked]], refused: list[tuple[int, str]]
                  ) -> Admitted:
    """Apply the rules to ``good`` (position, checked) in position order; append
    each refusal as (position, code) to ``refused``."""
    state = _BatchState.read(conn, rules.secret, good)
    policies = rules.policies.of_employers(
        conn, {f.employer for _, f in good if f.employer is not None})
    employees = attested_pairs(conn, policies, {f.pseudonym for _, f in good
                                                if f.employer in policies})
    taken: dict[str, tuple[int, Checked]] = {}
    shares = _NamedShares()
    admitted = Admitted()
    for position, found in sorted(good, key=lambda g: g[0]):
        code = state.refusal(found) or _foreign_share(conn, found, shares, state)
        if code is not None:
            refused.append((position, code))
            continue
        refusal = _policy_refusal(rules.policies, policies, employees, found)
        held = stays_suspended(refusal, found.employer,
                               state.suspended.get(found.grant_id))
        if held:
            # Refused and taken, as one by one (``Ingest.disclosure``).
            refused.append((position, refusal.code))
            admitted.suspended[found.grant_id] = found
        else:
            admitted.suspended.pop(found.grant_id, None)
        if refusal is None or held:
            state.take(found, suspended_by=found.employer if held else None)
            taken.pop(found.grant_id, None)  # the newest last, as one by one
            taken[found.grant_id] = (position, found)
            shares.take(found.grant_id, found.holder, found.row[_SHARE])
            continue
        refused.append((position, refusal.code))
        pending = taken.pop(found.grant_id, None) is not None
        shares.take(found.grant_id, found.holder, None)
        if rules.policies.retract(conn, found.holder, found.grant_id,
                                  Audience.from_json(found.audience), found.employer,
                                  refusal, rules.now, pending=pending):
            drop_for_grant(conn, found.grant_id, found.holder)
            state.retracted(found)
            admitted.advanced.append(found)
    replacing = [f for _, f in taken.values() if f.grant_id in state.replaced]
    admitted.ended = ended_grants(conn, [f.grant_id for f in replacing])
    drop_replaced(conn, replacing)
    admitted.kept = list(taken.values())
    return admitted


def _foreign_share(conn: Connection, found: Checked, shares: _NamedShares,
                   state: _BatchState) -> str | None:
    """The code of the refusal of a projection naming a copy of the intro video
    that another grant holds or names, stored or taken earlier in the batch, as
    one by one (``check_own_share``); else None."""
    share = found.row[_SHARE]
    if share is None:
        return None  # the common case: no query, nothing parsed
    try:
        check_own_share(conn, share, found.grant_id, found.holder,
                        batch=shares.by_share, replaced=state.replaced)
    except ProjectionMismatch as exc:
        return exc.code
    return None


@dataclass
class _NamedShares:
    """The share each grant taken in the batch names, and by share the grant and
    holder naming it."""

    by_share: dict[str, tuple[str, str]] = field(default_factory=dict)
    of_grant: dict[str, str] = field(default_factory=dict)

    def take(self, grant_id: str, holder: str, share: str | None) -> None:
        """``grant_id`` now names ``share`` (None: nothing, or nothing taken)."""
        before = self.of_grant.pop(grant_id, None)
        if before is not None:
            self.by_share.pop(before, None)
        if share is not None:
            self.of_grant[grant_id] = share
            self.by_share[share] = (grant_id, holder)


def _policy_refusal(policies: Policies, read: dict[str, EmployerPolicy],
                    employees: set[tuple[str, str]], found: Checked
                    ) -> ConsentError | None:
    attested = (found.employer, found.pseudonym) in employees
    policy = read.get(found.employer) if attested else None
    if policy is None and found.fits_employer:
        return None  # the common case, decided without building the audience
    return policies.refusal_under(policy, found.employer,
                                  Audience.from_json(found.audience))


@dataclass
class _BatchState:
    last: dict[str, int]  # holder did: last sequence number
    withdrawn: set[str]
    stored: dict[str, str]  # grant id: holder, of stored disclosures
    withdrawn_by: dict[str, str]  # grant id: holder, of withdrawals
    # grant id: the employer whose policy suspended its disclosure
    suspended: dict[str, str] = field(default_factory=dict)
    replaced: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, conn: Connection, secret: bytes,
             good: list[tuple[int, Checked]]) -> _BatchState:
        dids = sorted({f.holder for _, f in good})
        grant_ids = sorted({f.grant_id for _, f in good})
        last = lock_holders(conn, dids)
        last.update(_erased_floors(conn, {f.holder: f.pseudonym for _, f in good
                                          if f.holder not in last}))
        stored: dict[str, str] = {}
        suspended: dict[str, str] = {}
        withdrawn_by: dict[str, str] = {}
        if grant_ids:
            for grant_id, holder, by in conn.execute(select(
                    D.c.grant_id, D.c.holder_did, D.c.suspended_by).where(
                    among(conn, D.c.grant_id, grant_ids))):
                stored[grant_id] = holder
                if by is not None:
                    suspended[grant_id] = by
            withdrawn_by = dict(conn.execute(select(W.c.grant_id, W.c.holder_did)
                                             .where(among(conn, W.c.grant_id,
                                                          grant_ids))).all())
        return cls(last, withdrawn_among(conn, secret, grant_ids), stored,
                   withdrawn_by, suspended)

    def refusal(self, found: Checked) -> str | None:
        if found.sequence <= self.last.get(found.holder, 0):
            return "replayed-document"
        for owners in (self.stored, self.withdrawn_by):
            if owners.get(found.grant_id, found.holder) != found.holder:
                return "grant-id-taken"
        if found.grant_id in self.withdrawn:
            return "grant-withdrawn"
        return None

    def take(self, found: Checked, suspended_by: str | None = None) -> None:
        self.last[found.holder] = found.sequence
        if self.stored.get(found.grant_id) == found.holder:
            self.replaced.add(found.grant_id)
        self.stored[found.grant_id] = found.holder
        if suspended_by is None:
            self.suspended.pop(found.grant_id, None)
        else:
            self.suspended[found.grant_id] = suspended_by

    def retracted(self, found: Checked) -> None:
        """The grant's stored rows are gone (``Policies.retract``)."""
        self.last[found.holder] = found.sequence
        self.stored.pop(found.grant_id, None)
        self.suspended.pop(found.grant_id, None)
        self.replaced.discard(found.grant_id)


def lock_holders(conn: Connection, dids: list[str]) -> dict[str, int]:
    """Lock the rows of the holders ``dids`` (sorted) and return their sequence
    numbers, before any other read of their state, as single ingest's first
    statement does (``Ingest._advance``); an employment's end
    (``employment_reach.lock_holder``) and a withdrawal take the same lock.

    On PostgreSQL each later statement reads afresh, so what the batch reads
    next (stored, suspended and hidden grants, withdrawals) is all that was
    committed before, and no such change commits until the batch has written.
    Unlocked, an employment ended in between left the batch's new disclosure
    under a grant it hid visible, and a withdrawal in between let the batch
    store under the withdrawn grant and move the holder's sequence number back.

    ``FOR NO KEY UPDATE``: the lock the batch's update of those rows takes
    anyway, taken in did order, so two loads sharing holders do not deadlock. A
    holder without a row has nothing stored to decide on. SQLite: the load
    holds the write lock already (``bulk._lock_for_writing``)."""
    if not dids:
        return {}
    return dict(conn.execute(select(H.c.did, H.c.last_sequence).where(
        among(conn, H.c.did, dids)).order_by(H.c.did)
        .with_for_update(key_share=True)).all())


def _erased_floors(conn: Connection, pseudonyms: dict[str, str]) -> dict[str, int]:
    """The erasure sequence of each holder (did: pseudonym) that was erased here."""
    if not pseudonyms:
        return {}
    by_pseudonym = {p: d for d, p in pseudonyms.items()}
    floors = conn.execute(select(E.c.pseudonym, E.c.last_sequence).where(
        among(conn, E.c.pseudonym, sorted(by_pseudonym))))
    return {by_pseudonym[p]: s for p, s in floors}


def drop_replaced(conn: Connection, replacing: list[Checked]) -> None:
    """Delete the stored rows of the grants ``replacing`` publishes again, and the
    copies of the intro video the new projection no longer names (as single
    ingest: a copy it still names stays)."""
    if not replacing:
        return
    grant_ids = [f.grant_id for f in replacing]
    ids = select(D.c.id).where(D.c.grant_id.in_(grant_ids))
    for table in CHILD_TABLES:
        t = table.__table__
        conn.execute(delete(t).where(t.c.disclosure_id.in_(ids)))
    naming = [f for f in replacing if f.row[_SHARE] is not None]
    named = {f.grant_id for f in naming}
    drop_for_grants(conn, [g for g in grant_ids if g not in named])
    for found in naming:
        drop_for_grant(conn, found.grant_id, found.holder, keep=found.row[_SHARE])
    conn.execute(delete(D).where(D.c.grant_id.in_(grant_ids)))
