"""How much one pod may hold: a pod is created without an account, so every kind
of thing a holder can add to it has a ceiling, checked before anything changes."""

from __future__ import annotations

from datetime import datetime

from .errors import GrantLimitReached, StorageQuotaReached

# Grants that still disclose (not withdrawn, not ended): each one is signed and
# published again on every save of the Workcontext.
MAX_LIVE_GRANTS = 50
# Every grant the pod records, withdrawn and ended ones included (they stay for the
# holder's receipts and history).
MAX_GRANT_RECORDS = 2_000
# Stored files (an intro video, documents) and their plaintext bytes together.
MAX_BINARIES = 20
MAX_BINARY_TOTAL = 4 * 1024 ** 3


def check_grant_room(records, now: datetime, renewal: bool = False) -> None:
    """Refuse one grant more when the pod is full; a renewal replaces a live grant,
    so it counts against the records only."""
    if len(records) >= MAX_GRANT_RECORDS:
        raise GrantLimitReached(MAX_GRANT_RECORDS, "grants, ended ones included")
    live = sum(1 for r in records if counts_as_live(r, now))
    if not renewal and live >= MAX_LIVE_GRANTS:
        raise GrantLimitReached(MAX_LIVE_GRANTS, "grants that are not withdrawn or ended")


def counts_as_live(record, now: datetime) -> bool:
    """Whether a grant takes one of the ``MAX_LIVE_GRANTS`` places: it is neither
    withdrawn (nor being withdrawn) nor ended."""
    return (record.withdrawn is None and record.pending is None
            and now < record.grant.valid_until)


def binary_room(entries: dict, name: str) -> int:
    """The bytes a file stored as ``name`` may have: replacing a file frees its
    bytes and its place."""
    others = {n: e for n, e in entries.items() if n != name}
    if len(others) >= MAX_BINARIES:
        raise StorageQuotaReached(MAX_BINARIES, "files")
    return MAX_BINARY_TOTAL - sum(e["size"] for e in others.values())
