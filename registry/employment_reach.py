"""What ending, and attesting again, an employment does to the grants resting on it.

A grant whose audience is "my employer" (``employer``) or "my employer and its
neighbours" (``employer_and_neighbours``) names the organisation the holder's
Workcontext named when they granted it. Once that organisation ends the employment
it attested (``Employment.end``), it is not the holder's employer, so neither it
nor its neighbours see anything more under a grant naming it. Such a disclosure is
kept, hidden from every organisation (``suspension.hide``), in the transaction that
ends the employment, and the holder gets a notice saying why, as when an
employer's policy suspends a grant. A later save under the grant stays hidden
(``Ingest``, ``BulkIngest``): a holder's edit is not a new word on who their
employer is. When the organisation attests the employment again, the grants it
ended are shown again (``restore_reach``), or suspended instead if its policy now
refuses them, as they would have been.

What the employer can learn from this is bounded by what it attested: only grants
naming it as the holder's employer change, and only those of the holder whose
employment it ended. A grant to any other audience it belongs to (all
municipalities, its province) keeps showing the holder to it, so ending an
employment does not tell it which of its other candidates the holder is (EDPB
Guidelines 05/2020, section 3.1.1), and its answer is the same whether or not the
holder granted it anything. What it does see is a candidate it knew only as
"someone who names us as employer" leave its lists: an organisation that attests a
did it does not employ and then ends the attestation learns whether that person
names it as employer under such a grant. The attestation is its own statement that
the person works there, and the audience was granted to it as that person's
employer; the registry records who attested and ended, for the DPO.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Connection, exists, insert, select

from consent import Audience, AudienceRefusedByEmployer

from .db import among
from .policies import Policies
from .policy_tables import PolicyNotice
from .suspension import ENDED, hide, lift, suspend
from .tables import Disclosure, Holder

D = Disclosure.__table__
H = Holder.__table__
NOTICE = PolicyNotice.__table__
EMPLOYER_KINDS = ("employer", "employer_and_neighbours")


def lock_holder(conn: Connection, subject: str) -> None:
    """Take the holder's row lock, as ingest does when it moves the sequence
    number: a disclosure under the grant is then stored either before the
    employment changes (and found here) or after (and finds the mark)."""
    conn.execute(select(H.c.did).where(H.c.pseudonym == subject).with_for_update())


def withdraw_reach(conn: Connection, organisation: str, subject: str,
                   now: datetime) -> None:
    """Hide the subject's disclosures under grants to ``organisation`` as their
    employer, each holder's grant once with a notice."""
    for row in _resting(conn, organisation, subject):
        if row.suspended_by == ENDED:
            continue
        hide(conn, row.id)
        conn.execute(insert(NOTICE).values(
            holder_did=row.holder_did, grant_id=row.grant_id,
            organisation=organisation, reason=_reason(organisation, row.audience_kind),
            created=now))


def restore_reach(conn: Connection, organisation: str, subject: str,
                  policies: Policies) -> None:
    """Show again the disclosures ``withdraw_reach`` hid for ``organisation``:
    to their whole audience, or suspended if the employer's policy refuses them."""
    for row in _resting(conn, organisation, subject):
        if row.suspended_by != ENDED:
            continue
        audience = Audience.from_json(json.loads(row.document)["grant"]["audience"])
        refusal = policies.refusal(conn, row.policy_employer, audience, subject)
        if isinstance(refusal, AudienceRefusedByEmployer):
            suspend(conn, row.id, refusal.employer, audience, policies.geography)
        else:
            lift(conn, row.id, audience)


def ended_grant(conn: Connection, grant_id: str, holder_did: str) -> bool:
    """Whether the stored disclosure under the grant is hidden by an ended
    employment (a new one under the grant is hidden too)."""
    return conn.execute(select(exists().where(
        D.c.grant_id == grant_id, D.c.holder_did == holder_did,
        D.c.suspended_by == ENDED))).scalar()


def ended_grants(conn: Connection, grant_ids: list[str]) -> set[str]:
    """``ended_grant`` for a batch: those of ``grant_ids`` hidden by an ended
    employment (grant ids are global, so the holder need not be named)."""
    if not grant_ids:
        return set()
    return set(conn.execute(select(D.c.grant_id).where(
        among(conn, D.c.grant_id, sorted(set(grant_ids))), D.c.suspended_by == ENDED)
    ).scalars())


def hide_grants(conn: Connection, grant_ids: set[str]) -> None:
    """Hide the disclosures stored under ``grant_ids`` (a bulk load's new rows
    under grants ``ended_grants`` found hidden)."""
    for disclosure_id in conn.execute(select(D.c.id).where(
            D.c.grant_id.in_(sorted(grant_ids))).order_by(D.c.id)).scalars().all():
        hide(conn, disclosure_id)


def _resting(conn: Connection, organisation: str, subject: str) -> list:
    holder = select(H.c.did).where(H.c.pseudonym == subject)
    return conn.execute(select(
        D.c.id, D.c.grant_id, D.c.holder_did, D.c.document, D.c.suspended_by,
        D.c.policy_employer, D.c.audience_kind).where(
        D.c.holder_did.in_(holder), D.c.audience_kind.in_(EMPLOYER_KINDS),
        D.c.audience_ref == organisation).order_by(D.c.id)).all()


def _reason(organisation: str, kind: str) -> str:
    audience = ("your employer and its neighbours" if kind == "employer_and_neighbours"
                else "your employer")
    return (f"{organisation} no longer attests that you work there, so it is not "
            f"your employer: the grant's audience ({audience}) reaches no one "
            "until it attests your employment again")
