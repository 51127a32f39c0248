"""Append-only, tamper-evident access log (DESIGN.md invariants 4 and 7).

Every disclosure of personal data is appended before the answer leaves; ``verify``
detects any change, insertion, deletion or reordering of past entries, and a rollback
or rewrite against a ``Head`` saved earlier.
"""

from audit.db import make_engine
from audit.entry import OUTCOMES, AuditEntry, Outcome
from audit.errors import (
    AuditAppendFailed,
    AuditError,
    AuditUnavailable,
    InvalidAuditEntry,
    InvalidAuditQuery,
)
from audit.log import AuditLog, AuditRecord, Head, VerifyReport

__all__ = [
    "OUTCOMES",
    "AuditAppendFailed",
    "AuditEntry",
    "AuditError",
    "AuditLog",
    "AuditRecord",
    "AuditUnavailable",
    "Head",
    "InvalidAuditEntry",
    "InvalidAuditQuery",
    "Outcome",
    "VerifyReport",
    "make_engine",
]
