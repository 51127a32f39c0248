"""The DPO's reading of the access log is itself logged (BIO 8.15: access to logs
is logged too), from the API and from the web pages alike. A HEAD reads nothing:
it is stopped where the reading would be logged (``registry.HeadersOnly``), so it
is neither logged nor told the rows' size (vg/head_requests.py)."""

from __future__ import annotations

import secrets
import threading
from datetime import datetime, timedelta

from audit import AccessRecord, VerifyReport
from audit.errors import VerificationRunning
from registry import HeadersOnly, Requester

from .wiring import System


def log_read(system: System, requester: Requester, now: datetime, trace: str,
             action: str, shown: int) -> None:
    """Log that ``requester`` is about to be shown ``shown`` subjects' rows; for
    a HEAD, raise ``HeadersOnly`` instead, whatever the count (an empty answer's
    size would tell that there are no rows)."""
    if requester.headers_only:
        raise HeadersOnly()
    system.audit.append([AccessRecord(
        trace_id=trace, span_id=secrets.token_hex(8), occurred_at=now,
        actor=requester.actor, organisation=requester.organisation,
        role=requester.role, action=action, target="audit log", result="disclosed",
        origin="api", subjects=shown, reason="oversight by the data protection "
        "officer")])


_VERIFYING = threading.Lock()


def verify_whole_log(system: System) -> VerifyReport:
    """Recompute the whole tree for a DPO, one at a time: every DPO key may ask,
    and each asking costs minutes of both cores on a large log. The command line
    (the operator's ``vg audit verify``) is not limited."""
    if not _VERIFYING.acquire(blocking=False):
        raise VerificationRunning()
    try:
        return system.audit.verify(retention=timedelta(
            days=system.settings.audit_retention_days))
    finally:
        _VERIFYING.release()
