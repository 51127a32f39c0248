"""A consent grant: which fields, to which audience, for which purposes, until when.

A grant is signed by the holder. Its JSON form is what crosses from pod to registry
(inside a disclosure), so the registry can check it without trusting the pod server.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from schemas.catalogue import FIELDS, PURPOSES
from schemas.dates import DAY_RANGE, day_in_range

from .audience import Audience
from .errors import ConsentError, FieldNotAllowedForPurpose, InvalidGrant, UnknownField
from .signed import proof_signature, sign_document, verify_document
from .timefmt import format_time, parse_time

MAX_VALIDITY = timedelta(days=2 * 366)


@dataclass(frozen=True, slots=True)
class Grant:
    id: str
    holder: str
    audience: Audience
    purposes: tuple[str, ...]
    fields: tuple[str, ...]
    valid_from: datetime
    valid_until: datetime
    created: datetime
    signature: str | None = None
    # The grant this one renews (same audience, purposes and fields, a new period).
    # Absent in grants that renew nothing, so grants made before it existed verify
    # unchanged.
    renews: str | None = None

    def is_live(self, now: datetime) -> bool:
        return self.valid_from <= now < self.valid_until

    def to_json(self) -> dict[str, Any]:
        body = {
            "type": "ConsentGrant",
            "id": self.id,
            "holder": self.holder,
            "audience": self.audience.to_json(),
            "purposes": list(self.purposes),
            "fields": list(self.fields),
            "validFrom": format_time(self.valid_from),
            "validUntil": format_time(self.valid_until),
            "created": format_time(self.created),
        }
        if self.renews is not None:
            body["renews"] = self.renews
        if self.signature is not None:
            body["proof"] = {"verificationMethod": self.holder, "signature": self.signature}
        return body

    def signed_by(self, key) -> Grant:
        signed = sign_document(self.to_json(), key)
        return replace(self, signature=signed["proof"]["signature"])


def new_grant(
    holder: str,
    audience: Audience,
    purposes: list[str],
    fields: list[str],
    valid_until: datetime,
    now: datetime,
    valid_from: datetime | None = None,
    renews: str | None = None,
) -> Grant:
    """A new, unsigned grant, checked against the catalogue."""
    grant = Grant(
        id=f"urn:uuid:{uuid.uuid4()}",
        holder=holder,
        audience=audience,
        purposes=tuple(sorted(set(purposes))),
        fields=tuple(sorted(set(fields))),
        valid_from=valid_from or now,
        valid_until=valid_until,
        created=now,
        renews=renews,
    )
    check_grant(grant)
    return grant


def check_grant(grant: Grant) -> None:
    """Catalogue rules: known purposes and fields, each field allowed for each purpose."""
    problems = []
    if not grant.purposes:
        problems.append("purposes must name at least one purpose")
    if not grant.fields:
        problems.append("fields must name at least one field")
    for name, moment in (("validFrom", grant.valid_from),
                         ("validUntil", grant.valid_until)):
        if not day_in_range(moment):
            problems.append(f"{name} must be a moment {DAY_RANGE}")
    if grant.valid_until <= grant.valid_from:
        problems.append("validUntil must be after validFrom")
    if grant.valid_until - grant.valid_from > MAX_VALIDITY:
        problems.append("a grant can be valid for at most two years")
    for purpose in grant.purposes:
        if purpose not in PURPOSES:
            problems.append(f"purpose {purpose!r} is not known")
    if problems:
        raise InvalidGrant(problems)
    for key in grant.fields:
        if key not in FIELDS:
            raise UnknownField(key)
        for purpose in grant.purposes:
            if purpose not in FIELDS[key].purposes:
                raise FieldNotAllowedForPurpose(key, purpose)


# "renews" is optional: grants of the first form lack it.
GRANT_MEMBERS = frozenset({"type", "id", "holder", "audience", "purposes", "fields",
                           "validFrom", "validUntil", "created", "renews", "proof"})
GRANT_ID = re.compile(
    r"^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


def grant_urn(text: str) -> str:
    """A grant id as the holder may type it: the ``urn:uuid:...`` the API returns or
    the bare UUID, in either case (UUIDs compare without case, RFC 9562); grants
    are named in lower case. Anything else comes back unchanged, so it names no
    grant."""
    if isinstance(text, str) and text.isascii():
        bare = text.lower().removeprefix("urn:uuid:")
        if GRANT_ID.match("urn:uuid:" + bare):
            return "urn:uuid:" + bare
    return text


def grant_from_json(data: Any, *, parsed_bounded: bool = False) -> Grant:
    """Parse and verify a signed grant; the signature must be the holder's.
    ``parsed_bounded``: ``data`` came from ``schemas.parse_bounded``."""
    return _read_grant(data, verify_proof=True, parsed_bounded=parsed_bounded)


def grant_in_signed_document(data: Any) -> Grant:
    """Parse a grant embedded in a document whose own signature, by the grant's
    holder, has been verified already (``read_disclosure``): every check of
    ``grant_from_json`` except verifying the grant's own signature, whose proof
    must still name the holder and hold a signature.

    The disclosure's signature covers the embedded grant byte for byte, its proof
    included, and must be by the same key (``read_disclosure`` refuses a grant of
    another holder). So every term of the grant a reader of the disclosure acts
    on (id, audience, purposes, fields, period, renewal) is the holder's: changed
    by anyone else, the disclosure's signature fails. Verifying the grant's
    signature as well could only refuse what that key signed itself, a grant
    whose proof the holder's own software broke; it would add no protection
    against anyone without the key, who cannot make the disclosure either. Such
    a disclosure is read as the holder's word, which it is. A grant read on its
    own, outside a verified disclosure (the pod's stored grants, an archive
    being imported), is verified by ``grant_from_json``."""
    return _read_grant(data, verify_proof=False)


def _read_grant(data: Any, *, verify_proof: bool, parsed_bounded: bool = False
                ) -> Grant:
    if not isinstance(data, dict) or data.get("type") != "ConsentGrant":
        raise InvalidGrant(["grant must be a ConsentGrant object"])
    unexpected = sorted(set(data) - GRANT_MEMBERS)
    if unexpected:
        raise InvalidGrant([f"grant has unexpected members: {', '.join(unexpected)}"])
    if not isinstance(data.get("id"), str) or not GRANT_ID.match(data["id"]):
        raise InvalidGrant(["grant id must be a urn:uuid"])
    if verify_proof:
        verify_document(data, data.get("holder"), parsed_bounded=parsed_bounded)
    signature = proof_signature(data, data.get("holder"))
    try:
        grant = Grant(
            id=_text(data, "id"),
            holder=_text(data, "holder"),
            audience=Audience.from_json(data.get("audience")),
            purposes=tuple(_texts(data, "purposes")),
            fields=tuple(_texts(data, "fields")),
            valid_from=parse_time(data.get("validFrom"), "validFrom"),
            valid_until=parse_time(data.get("validUntil"), "validUntil"),
            created=parse_time(data.get("created"), "created"),
            signature=signature,
            renews=_text(data, "renews") if "renews" in data else None,
        )
    except (KeyError, TypeError) as exc:
        raise InvalidGrant(["grant is missing required members"]) from exc
    check_grant(grant)
    return grant


def _text(data: dict, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not 0 < len(value) <= 200:
        raise InvalidGrant([f"{key} must be a non-empty string"])
    return value


def _texts(data: dict, key: str) -> list[str]:
    value = data.get(key)
    if not isinstance(value, list) or len(value) > 50:
        raise InvalidGrant([f"{key} must be a list of at most 50 strings"])
    if not all(isinstance(v, str) for v in value):
        raise InvalidGrant([f"{key} must be a list of strings"])
    return value


__all__ = ["Grant", "new_grant", "check_grant", "grant_from_json",
           "grant_in_signed_document", "ConsentError"]
