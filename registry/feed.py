"""The feed of open assignments that pods fetch to compute alerts themselves.

An assignment is published to the audience its circle names, expressed as the TOOI
identifiers of the organisations in it (``all`` for a circle of every employer that
takes freelancers too, ``employed`` for one that does not), so a pod can decide
membership from its own ``worksFor`` alone. The request carries nothing
about the holder but an authenticated session: the registry can not tell who fits,
which is the point: alerts are computed in the pod, never here.

The price: any authenticated holder can read every open assignment, also one whose
circle does not include their employer, because checking membership here would
require the registry to learn the employer. An assignment holds no personal data
(registry/tables.py), so the pod filters instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from .assignments import Assignments, StoredAssignment
from .circles import Circles
from .db import transaction
from .tables import Assignment

T = Assignment.__table__
MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class FeedPage:
    """Open assignments in the order they opened, each with its ``feedPosition``.
    ``next_cursor`` is the position to ask after for the next page, None on the
    last page (as on every paged list); a pod resumes later after the position
    of the last item it read."""

    items: list[dict[str, Any]]
    next_cursor: int | None


class Feed:
    def __init__(self, engine: Engine, assignments: Assignments, reference,
                 circles: Circles):
        self._engine = engine
        self._assignments = assignments
        self._reference = reference
        self._circles = circles

    def page(self, after: int, limit: int) -> FeedPage:
        """Assignments open now whose place is after ``after``; one row more is
        read to know whether another page follows. An assignment opened again
        after a pause has a new place, so it comes again."""
        limit = max(1, min(limit, MAX_PAGE))
        with transaction(self._engine) as conn:
            rows = conn.execute(select(T.c.id, T.c.organisation, T.c.opened).where(
                T.c.opened > after, T.c.status == "open").order_by(T.c.opened)
                .limit(limit + 1)).all()
        shown = rows[:limit]
        items = [self._item(self._assignments.get(r.organisation, r.id), r.opened)
                 for r in shown]
        return FeedPage(items, shown[-1].opened if len(rows) > limit else None)

    def _item(self, assignment: StoredAssignment, position: int) -> dict[str, Any]:
        body = assignment.to_json()
        body["audience"] = self._audience(assignment)
        body["feedPosition"] = position
        return body

    def _audience(self, assignment: StoredAssignment) -> dict[str, Any]:
        """The employers the ranking puts in the circle (``Circles.members``, the
        one source of both), so a pod alerts on exactly the assignments it could be
        ranked for. A holder without an employer (a freelancer) is inside only a
        circle of every employer that takes freelancers (``Matcher.in_circle``)."""
        members = self._circles.members(assignment.spec, assignment.organisation)
        if members is None:
            return {"kind": "all" if assignment.spec.freelancers else "employed"}
        tooi = sorted(self._reference.organisation(c).tooi_uri for c in members
                      if self._reference.has_organisation(c))
        return {"kind": "organisations", "organisations": tooi}
