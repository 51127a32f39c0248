"""Disclosures and withdrawals: the signed documents that cross from pod to registry.

A disclosure carries the projection of the Workcontext onto a grant's fields, the
signed grant itself, and a per-holder sequence number; a withdrawal names a grant.
A disclosure also names the holder's employer (the Workcontext's ``worksFor``) when
there is one, outside the projection: the registry needs it to apply the employer's
policy on audiences and never shows it to an organisation. Documents made before
this member existed simply lack it and verify as before.
The sequence number is strictly increasing per holder over both kinds, so the registry
rejects any replay of an older document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.jsonld import WORKCONTEXT_CONTEXT_URL

from .errors import InvalidGrant, ProjectionMismatch
from .grant import GRANT_ID, Grant, grant_in_signed_document
from .projection import disclosed_fields, project
from .signed import sign_document, verify_document
from .timefmt import format_time, parse_time


@dataclass(frozen=True, slots=True)
class Disclosure:
    holder: str
    sequence: int
    issued: datetime
    grant: Grant
    workcontext: dict[str, Any]
    fields: frozenset[str]
    document: dict[str, Any]
    employer: str | None = None


@dataclass(frozen=True, slots=True)
class Withdrawal:
    holder: str
    sequence: int
    issued: datetime
    grant_id: str
    document: dict[str, Any]


def make_disclosure(workcontext: dict, grant: Grant, sequence: int, key, now) -> dict:
    body = {
        "type": "Disclosure",
        "holder": key.did,
        "sequence": sequence,
        "issued": format_time(now),
        "grant": grant.to_json(),
        "workcontext": project(workcontext, grant.fields),
    }
    if isinstance(workcontext.get("worksFor"), str):
        body["employer"] = workcontext["worksFor"]
    return sign_document(body, key)


def make_withdrawal(grant_id: str, sequence: int, key, now: datetime) -> dict:
    body = {
        "type": "Withdrawal",
        "holder": key.did,
        "sequence": sequence,
        "issued": format_time(now),
        "grant": grant_id,
    }
    return sign_document(body, key)


def read_disclosure(document: Any, *, parsed_bounded: bool = False) -> Disclosure:
    """Verify a disclosure's signatures and that it holds only granted fields.
    ``parsed_bounded``: ``document`` is what ``schemas.parse_bounded`` returned
    (its canonical form is then written without looking for floats again)."""
    holder, sequence, issued = _envelope(document, "Disclosure", parsed_bounded)
    # The holder's signature, just verified, covers the grant with its proof: the
    # grant's own signature is not verified again (``grant_in_signed_document``
    # says why that is sound). It was half of a bulk ingest worker's Ed25519 time.
    grant = grant_in_signed_document(document.get("grant"))
    if grant.holder != holder:
        raise InvalidGrant(["grant belongs to another holder"])
    workcontext = document.get("workcontext")
    if not isinstance(workcontext, dict) or workcontext.get("id") != holder:
        raise InvalidGrant(["workcontext must be the holder's projection"])
    if workcontext.get("@context") != WORKCONTEXT_CONTEXT_URL:
        raise InvalidGrant([f"workcontext @context must be {WORKCONTEXT_CONTEXT_URL}"])
    fields = disclosed_fields(workcontext)
    outside = sorted(fields - set(grant.fields))
    if outside:
        raise ProjectionMismatch(outside)
    employer = document.get("employer")
    if employer is not None and (not isinstance(employer, str) or len(employer) > 200):
        raise InvalidGrant(["employer must be an organisation identifier"])
    return Disclosure(holder, sequence, issued, grant, workcontext, fields, document,
                      employer)


def read_withdrawal(document: Any) -> Withdrawal:
    holder, sequence, issued = _envelope(document, "Withdrawal")
    grant_id = document.get("grant")
    if not isinstance(grant_id, str) or not GRANT_ID.match(grant_id):
        raise InvalidGrant(["grant must name the withdrawn grant's id (a urn:uuid)"])
    return Withdrawal(holder, sequence, issued, grant_id, document)


MEMBERS = {
    # "employer" is optional: documents of the first form lack it.
    "Disclosure": frozenset({"type", "holder", "sequence", "issued", "grant",
                             "workcontext", "employer", "proof"}),
    "Withdrawal": frozenset({"type", "holder", "sequence", "issued", "grant", "proof"}),
}
# Sequence numbers stay within what every database integer column and JSON reader
# holds exactly.
MAX_SEQUENCE = 2**53 - 1


def _envelope(document: Any, kind: str,
              parsed_bounded: bool = False) -> tuple[str, int, datetime]:
    if not isinstance(document, dict) or document.get("type") != kind:
        raise InvalidGrant([f"document must be a {kind}"])
    unexpected = sorted(set(document) - MEMBERS[kind])
    if unexpected:
        raise InvalidGrant([f"{kind} has unexpected members: {', '.join(unexpected)}"])
    holder = document.get("holder")
    verify_document(document, holder, parsed_bounded=parsed_bounded)
    sequence = document.get("sequence")
    if (not isinstance(sequence, int) or isinstance(sequence, bool)
            or not 1 <= sequence <= MAX_SEQUENCE):
        raise InvalidGrant([f"sequence must be an integer from 1 to {MAX_SEQUENCE}"])
    return holder, sequence, parse_time(document.get("issued"), "issued")
