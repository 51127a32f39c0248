"""Which grant renewed which: a renewal is a new grant naming the one it renews
(``Grant.renews``); once it is live, the old grant is withdrawn and the consent
goes on under the new one.

The pod records the renewal on the old grant when it ends it (``renewedBy``).
Grants ended before that mark existed are read from the renewals themselves: a
renewal that is live, or that ended after the grant it renews, took over from it.
"""

from __future__ import annotations

from collections.abc import Sequence

from .holder import GrantRecord


def settled(record: GrantRecord) -> bool:
    """Neither withdrawn, nor being withdrawn, nor waiting for its first
    publication to be confirmed."""
    return (record.withdrawn is None and record.pending is None
            and record.publishing is None)


def successor(records: Sequence[GrantRecord], record: GrantRecord) -> str | None:
    """The grant that renewed ``record``'s grant and took over from it, if any."""
    if record.renewed_by is not None:
        return record.renewed_by
    for other in records:
        if other.grant.renews != record.grant.id:
            continue
        if settled(other):
            return other.grant.id
        if (record.withdrawn is not None and other.withdrawn is not None
                and other.withdrawn > record.withdrawn):  # same RFC 3339 form
            return other.grant.id
    return None


def renewals_after(records: Sequence[GrantRecord], grant_id: str) -> list[str]:
    """Every grant that renews ``grant_id``, directly or through other renewals,
    oldest first: withdrawing a consent ends all of them."""
    found, frontier = [], [grant_id]
    while frontier:
        parent = frontier.pop(0)
        children = sorted((r for r in records if r.grant.renews == parent),
                          key=lambda r: r.grant.created)
        for child in children:
            if child.grant.id not in found and child.grant.id != grant_id:
                found.append(child.grant.id)
                frontier.append(child.grant.id)
    return found
