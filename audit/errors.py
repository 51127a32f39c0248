"""Errors of the audit log.

    AuditError                  500 audit-error
    ├── AuditUnavailable        503 audit-unavailable   (the store could not be used)
    │   └── AuditAppendFailed   503 audit-unavailable   (count: records not logged)
    ├── CheckpointRefused       500 checkpoint-refused  (size: the head is not
    │                                                    consistent with the last
    │                                                    signed checkpoint, or
    │                                                    unsigned_prune: it holds
    │                                                    an unsigned prune record)
    ├── InvalidAuditEntry       500 invalid-audit-entry (field)
    ├── InvalidAuditQuery       400 invalid-audit-query (parameter)
    ├── InvalidCheckpoint       400 invalid-checkpoint  (a checkpoint or proof that
    │                                                    does not parse or verify)
    └── NoSuchEntry             404 no-such-entry       (index)

Storage failures are translated at one boundary (``audit.log``) and keep the
SQLAlchemy / driver exception as ``__cause__``. ``InvalidAuditEntry`` is a 500, not
a 400: records are built by our own code (the registry), never by a client, so a bad
one is a bug on our side, and the request it belongs to must fail (DESIGN.md
invariant 4, fail closed).
"""

from __future__ import annotations


class AuditError(Exception):
    status = 500
    code = "audit-error"


class AuditUnavailable(AuditError):
    """The audit store could not be read or written (database down, locked, ...)."""

    status = 503
    code = "audit-unavailable"


class AuditAppendFailed(AuditUnavailable):
    """An append did not commit (it was rolled back): fail the request."""

    status = 503
    code = "audit-unavailable"

    def __init__(self, count: int):
        super().__init__(f"the audit log could not record {count} entries")
        self.count = count


class CheckpointRefused(AuditError):
    """The stored tree is not consistent with the last signed checkpoint (signing
    would publish a fork), or holds a prune record the log's key did not sign
    since it (signing would vouch for it, ``audit.prunes``): nothing is signed
    (someone changed the log)."""

    status = 500
    code = "checkpoint-refused"

    def __init__(self, size: int, unsigned_prune: int | None = None):
        if unsigned_prune is None:
            why = "is not consistent with the last signed checkpoint"
        else:  # signing would vouch for the prune (``audit.prunes``)
            why = (f"holds a prune record at {unsigned_prune} that is not signed "
                   "with the log's key")
        super().__init__(f"the tree of size {size} {why}; run verify")
        self.size = size
        self.unsigned_prune = unsigned_prune


class InvalidAuditEntry(AuditError):
    status = 500
    code = "invalid-audit-entry"

    def __init__(self, field: str, must: str):
        super().__init__(f"{field} must be {must}")
        self.field = field


class InvalidAuditQuery(AuditError):
    status = 400
    code = "invalid-audit-query"

    def __init__(self, parameter: str, must: str):
        super().__init__(f"{parameter} must be {must}")
        self.parameter = parameter


class InvalidCheckpoint(AuditError):
    status = 400
    code = "invalid-checkpoint"


class NoSuchEntry(AuditError):
    status = 404
    code = "no-such-entry"

    def __init__(self, index: object):
        super().__init__(f"the log has no entry {index}")
        self.index = index


class VerificationRunning(AuditError):
    """A full verification recomputes the whole tree (minutes at ten million
    entries): one runs at a time per server process, the others are asked to wait."""

    status = 429
    code = "verification-running"
    response_headers = {"Retry-After": "60"}

    def __init__(self) -> None:
        super().__init__("a verification of the whole log is running; try again later")
