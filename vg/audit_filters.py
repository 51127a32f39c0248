"""The DPO's filters on the access log, one set of rules for the API and the web
pages: how long each text may be and which purposes and outcomes exist. A filter
that can not be applied is refused with its reason, never dropped and never read
as "no such access": a mistyped purpose would otherwise look like a clean log."""

from __future__ import annotations

from audit import InvalidAuditQuery
from schemas import PURPOSES

# The most characters each text filter takes: an organisation code, an actor as
# the access record names it, a purpose key, a subject's pseudonym.
MAX_LENGTH = {"organisation": 40, "requester": 200, "purpose": 40, "subject": 64}
OUTCOMES = ("disclosed", "refused")


def known_purposes() -> tuple[str, ...]:
    return tuple(PURPOSES)


def check_purpose(purpose: str | None) -> None:
    """Entries carry a purpose of the catalogue only, so any other names none."""
    if purpose is not None and purpose not in PURPOSES:
        raise InvalidAuditQuery("purpose", "one of " + ", ".join(PURPOSES))
