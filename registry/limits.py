"""How much one holder or one organisation may create in the registry: anyone may
make a pod and every organisation key may create, so each kind of thing that
accumulates has a ceiling, checked before anything changes (409 limit-reached).

The count and the insert share one transaction, and creations under one ceiling
take turns from the count to the commit (``check_room``), so requests racing for
the last free place get one 201 and 409 for the rest."""

from __future__ import annotations

from sqlalchemy import func, select

from .db import take_turn
from .errors_work import LimitReached

# Interest groups one holder founded (leaving a group does not free its place:
# the group stays).
MAX_GROUPS_FOUNDED = 20
# Assignments of one organisation that are not closed (draft, open, paused,
# filled), and all it ever created: closed ones stay, with their swipes and teams.
MAX_UNCLOSED_ASSIGNMENTS = 500
MAX_ASSIGNMENTS = 20_000
# Candidates passed on for one assignment (each one the organisation may see).
MAX_PASSES_PER_ASSIGNMENT = 10_000
# Products of one team (links and files of at most 128 KiB each).
MAX_TEAM_PRODUCTS = 200
# Employees one organisation attests: above the staff of the largest municipality.
# An attestation of a did the registry never saw is taken and counted: refusing it
# would tell the organisation which dids hold a pod.
MAX_EMPLOYEES = 25_000


def check_room(conn, where, limit: int, what: str, owner: str) -> None:
    """Refuse one more row where ``where`` (a table's clauses) already counts
    ``limit``. ``owner`` names whose rows these are (an organisation, a founder,
    a team); until this transaction ends, other creations under the same ceiling
    wait, so none of them counts before this one's row is committed."""
    table, *clauses = where
    take_turn(conn, table, f"{what}|{owner}")
    count = conn.execute(select(func.count()).select_from(table).where(*clauses)
                         ).scalar_one()
    if count >= limit:
        raise LimitReached(limit, what)
