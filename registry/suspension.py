"""Suspending a stored disclosure under its holder's employer's policy, and lifting
the suspension when a later policy of that employer allows the grant again.

A suspended disclosure is kept, not deleted, and marked with the employer whose
policy suspended it (``disclosure.suspended_by``). It is shown to no organisation
but that employer, and to that employer only when the grant's audience contains
it: the holder granted it that organisation, and an employer's policy on its
employees' audiences does not guard the employees against the employer itself.
That is what keeps a policy change from being a probe: the suspending employer's
own lists do not change, so it can not learn which candidates are its employees
(EDPB Guidelines 05/2020, section 3.1.1), and lifting the suspension brings the
disclosure back to the rest of its audience without the holder publishing again.

The consent gate reads the mark on ``disclosure`` (``ConsentGate._visible``).
Ranking reads the match index (``registry.tables_match``), whose rows are moved
to other reach keys instead, so ranking needs no condition of its own:

- suspended, a row under a key the suspending employer holds for the purpose
  moves to ``<purpose>|suspended:<employer>``, a key only that employer holds
  (``match_index.requester_keys``); every other row moves to
  ``<purpose>|suspended``, a key no requester holds, kept for the lift;
- lifted, the rows go back under the keys of the grant's audience.

A disclosure whose grant's audience is its holder's employer (alone or with its
neighbours) is hidden when that employer ends the employment it attested
(``registry.employment_reach``): marked ``ENDED``, a value no organisation has, so
the gate shows it to none, and all its rows move to ``<purpose>|suspended``.

The triggers on ``match_disclosure`` log the moves (``registry.match_changes``),
so every process's in-memory index follows. A suspended disclosure goes like any
other with its holder's withdrawal, its grant's expiry and the holder's erasure.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select, update

from consent import Audience, Geography

from .match_index import SUSPENDED, audience_keys, reach_terms, requester_keys
from .match_index import suspended_key, term_ids
from .tables import Disclosure, DisclosurePurpose
from .tables_match import MatchDisclosure, MatchSkill

# The mark of a disclosure whose audience rests on an employment its employer
# ended: no organisation code (``consent.Geography`` knows none like it), so the
# gate's "unless the viewer is the suspending employer" holds for no requester.
ENDED = "employment-ended"

D = Disclosure.__table__
P = DisclosurePurpose.__table__
MD = MatchDisclosure.__table__
MS = MatchSkill.__table__


def suspend(conn: Connection, disclosure_id: int, employer: str,
            audience: Audience, geo: Geography) -> None:
    """Mark the disclosure suspended by ``employer``'s policy, in the caller's
    transaction (the policy change's)."""
    conn.execute(update(D).where(D.c.id == disclosure_id).values(
        suspended_by=employer))
    held = set(requester_keys(employer, geo))
    keys = [suspended_key(employer) if key in held else SUSPENDED
            for key in audience_keys(audience.kind, audience.ref,
                                     audience.organisations)]
    _move_index_rows(conn, disclosure_id, keys)


def hide(conn: Connection, disclosure_id: int) -> None:
    """Mark the disclosure ``ENDED``: shown to no organisation at all, in the
    caller's transaction (the end of the employment its audience rests on)."""
    conn.execute(update(D).where(D.c.id == disclosure_id).values(suspended_by=ENDED))
    _move_index_rows(conn, disclosure_id, [SUSPENDED])


def lift(conn: Connection, disclosure_id: int, audience: Audience) -> None:
    """End the suspension: the disclosure is shown to its whole audience again."""
    conn.execute(update(D).where(D.c.id == disclosure_id).values(suspended_by=None))
    _move_index_rows(conn, disclosure_id, audience_keys(
        audience.kind, audience.ref, audience.organisations))


def _move_index_rows(conn: Connection, disclosure_id: int, keys: list[str]) -> None:
    """Put the disclosure's match index rows under ``keys`` (one set per purpose).
    Every row of a disclosure holds the same columns and skills whatever its key,
    so one row and the skill ids are read, and rows are made anew from them."""
    first = conn.execute(select(MD).where(MD.c.disclosure_id == disclosure_id)
                         .limit(1)).first()
    if first is None:
        return
    skills = sorted(set(conn.execute(select(MS.c.skill).where(
        MS.c.disclosure_id == disclosure_id)).scalars()))
    purposes = sorted(conn.execute(select(P.c.purpose).where(
        P.c.disclosure_id == disclosure_id)).scalars())
    terms = sorted({t for p in purposes for t in reach_terms(p, keys)})
    ids = term_ids(conn, terms)

    conn.execute(delete(MS).where(MS.c.disclosure_id == disclosure_id))
    conn.execute(delete(MD).where(MD.c.disclosure_id == disclosure_id))
    row = first._asdict()
    conn.execute(insert(MD), [{**row, "reach": ids[t]} for t in terms])
    live = {name: row[name] for name in ("pseudonym", "disclosure_id", "valid_from",
                                         "valid_until")}
    if skills:
        conn.execute(insert(MS), [{**live, "reach": ids[t], "skill": s}
                                  for t in terms for s in skills])
