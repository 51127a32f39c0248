"""``AuditLog``: the Merkle tree log with its readers, as the rest of the system
uses it (append, read, count, verify, publish, prune)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from audit import queries
from audit.flags import Flag, FlagRules, flags
from audit.log import MerkleLog
from audit.note import Verifier
from audit.verify import VerifyReport, verify_log


class AuditLog(MerkleLog):
    def entries(self, *, limit: int = 100, offset: int = 0,
                after: int | None = None, **filters: Any) -> list[queries.AuditRecord]:
        return queries.entries(self, limit=limit, offset=offset, after=after,
                               **filters)

    def page(self, *, limit: int = 100, offset: int = 0, after: int | None = None,
             **filters: Any) -> queries.Page:
        return queries.page(self, limit=limit, offset=offset, after=after, **filters)

    def count(self, **filters: Any) -> int:
        return queries.count(self, **filters)

    def daily_counts(self, **filters: Any) -> list[dict[str, Any]]:
        return queries.daily_counts(self, **filters)

    def flags(self, since: datetime, until: datetime, rules: FlagRules,
              organisation: str | None = None,
              after: int | None = None) -> tuple[list[Flag], int | None]:
        return flags(self, since, until, rules, organisation, after)

    def verify(self, checkpoint: str | None = None,
               verifier: Verifier | None = None,
               retention: timedelta | None = None) -> VerifyReport:
        return verify_log(self, checkpoint, verifier, retention)
