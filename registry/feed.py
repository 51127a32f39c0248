"""The feed of open assignments that pods fetch to compute alerts themselves.

An assignment is published to the audience its circle names, expressed as the TOOI
identifiers of the organisations in it (or ``all`` for the national circle), so a pod
can decide membership from its own ``worksFor`` alone. The request carries nothing
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
from .db import transaction
from .tables import Assignment

T = Assignment.__table__
MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class FeedPage:
    items: list[dict[str, Any]]
    cursor: int  # the last assignment id in this page, or the one asked after


class Feed:
    def __init__(self, engine: Engine, assignments: Assignments, reference):
        self._engine = engine
        self._assignments = assignments
        self._reference = reference

    def page(self, after: int, limit: int) -> FeedPage:
        limit = max(1, min(limit, MAX_PAGE))
        with transaction(self._engine) as conn:
            rows = conn.execute(select(T.c.id, T.c.organisation).where(
                T.c.id > after, T.c.status == "open").order_by(T.c.id)
                .limit(limit)).all()
        items = [self._item(self._assignments.get(r.organisation, r.id)) for r in rows]
        return FeedPage(items, rows[-1].id if rows else after)

    def _item(self, assignment: StoredAssignment) -> dict[str, Any]:
        body = assignment.to_json()
        body["audience"] = self._audience(assignment)
        return body

    def _audience(self, assignment: StoredAssignment) -> dict[str, Any]:
        circle, org = assignment.spec.circle, assignment.organisation
        if circle == "national":
            return {"kind": "all"}
        if circle == "own":
            codes = {org}
        elif circle == "neighbours":
            codes = {org} | set(self._reference.neighbours(org))
        else:
            province = self._reference.province_of(org)
            codes = set(self._reference.municipalities_in_province(province)) | {org} \
                if province else {org}
        tooi = sorted(self._reference.organisation(c).tooi_uri for c in codes
                      if self._reference.has_organisation(c))
        return {"kind": "organisations", "organisations": tooi}
