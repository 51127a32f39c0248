"""Append-only, tamper-evident access log (DESIGN.md invariants 4 and 7).

An RFC 9162 Merkle tree whose leaves are Logboek Dataverwerkingen processing entries
(``AuditEntry``, one per data subject) and BIO access records (``AccessRecord``, who
asked), with C2SP signed checkpoints, inclusion and consistency proofs, verification
that names the place of any change, DPO queries and flags, and retention.
"""

from audit.auditlog import AuditLog
from audit.db import make_engine
from audit.entry import (
    OUTCOMES,
    PSEUDONYM_TYPE,
    AccessRecord,
    AuditEntry,
    Outcome,
    entries_per_subject,
)
from audit.errors import (
    AuditAppendFailed,
    AuditError,
    AuditUnavailable,
    CheckpointRefused,
    InvalidAuditEntry,
    InvalidAuditQuery,
    InvalidCheckpoint,
    NoSuchEntry,
)
from audit.flags import Flag, FlagRules
from audit.log import Head, Proof
from audit.note import Checkpoint, NoteError, Signer, Verifier, unverified_checkpoint
from audit.queries import AuditRecord, Page, to_csv
from audit.verify import VerifyReport

__all__ = [
    "OUTCOMES",
    "PSEUDONYM_TYPE",
    "AccessRecord",
    "AuditAppendFailed",
    "AuditEntry",
    "AuditError",
    "AuditLog",
    "AuditRecord",
    "Page",
    "AuditUnavailable",
    "Checkpoint",
    "CheckpointRefused",
    "Flag",
    "FlagRules",
    "Head",
    "InvalidAuditEntry",
    "InvalidAuditQuery",
    "InvalidCheckpoint",
    "NoSuchEntry",
    "NoteError",
    "Outcome",
    "Proof",
    "Signer",
    "Verifier",
    "VerifyReport",
    "entries_per_subject",
    "make_engine",
    "to_csv",
    "unverified_checkpoint",
]
