"""Consent records and receipts: ISO/IEC TS 27560:2023 in W3C DPV terms, as JSON-LD.

Every event in a grant's life (given, renewed, withdrawn, expired, invalidated by an
employer's policy, that invalidation lifted) is one ``dpv:ConsentRecord`` conforming to the DPVCG profile
``dpv-27560#record-eu-gdpr``; a ``dpv:ConsentReceipt`` (``#receipt-eu-gdpr``) holds
records and is signed by the operator, so the holder keeps evidence of what the
platform recorded. Record identifiers are derived from the grant and the event, so
exporting twice yields the same records.

The legal basis is the receiving organisation's own (GDPR art. 6(1)(b) or (e), as
each declared it for a purpose); the grant is not the basis but the switch without
which nothing is disclosed (EDPB Guidelines 05/2020 on consent, section 3.1.1).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from schemas.catalogue import FIELDS, PURPOSES
from schemas.jsonld import CONSENT_RECORD_CONTEXT_URL

from .errors import InvalidSignature
from .grant import Grant
from .signed import sign_document, verify_document
from .timefmt import format_time

RECORD_PROFILE = "dpv-27560:record-eu-gdpr"
RECEIPT_PROFILE = "dpv-27560:receipt-eu-gdpr"
NOTICE = "https://w3id.org/virtuele-gemeente/privacy-notice"
FIELD_NS = "https://w3id.org/virtuele-gemeente/fields#"

STATUSES = {
    "given": "dpv:ConsentGiven",
    "renewed": "dpv:RenewedConsentGiven",
    "withdrawn": "dpv:ConsentWithdrawn",
    "expired": "dpv:ConsentExpired",
    "invalidated": "dpv:ConsentInvalidated",
    # DPV 2.3 has no status for an invalidation that ended. Once the employer's
    # policy allows the grant again, the consent the holder gave is valid for
    # processing again (dpv:ConsentStatusValidForProcessing), unchanged: its
    # record states that status's ConsentGiven, indicated by the organisation
    # whose policy lifted the invalidation and at that moment, so it does not
    # read as the holder giving consent anew.
    "lifted": "dpv:ConsentGiven",
}
LEGAL_BASES = {"public_task": "eu-gdpr:A6-1-e", "employee_request": "eu-gdpr:A6-1-b"}

# DPV personal-data categories (pd 2.3) for the catalogue fields; DPV has no term
# for a skill or a function level, so those use the nearest broader category.
PD_CATEGORY = {
    "name": "pd:Name", "employer": "pd:Job", "occupation": "pd:Job",
    "skills": "pd:ProfessionalExperience", "level": "pd:Job",
    "salary_scale": "pd:Salary", "field_of_work": "pd:Job",
    "hours_per_week": "pd:Professional", "available_period": "pd:Professional",
    "intro_video": "pd:Picture", "email": "pd:EmailAddress",
    "telephone": "pd:TelephoneNumber", "rating_summary": "pd:PerformanceAtWork",
}


@dataclass(frozen=True, slots=True)
class ConsentEvent:
    """One change of a grant's state: ``status`` is a key of STATUSES, ``by`` the
    IRI of who caused it (the holder's did, or the employer for an invalidation)."""

    status: str
    at: datetime
    by: str
    # For the end of a grant a renewal took over: the grant that renewed it.
    renewed_by: str | None = None


@dataclass(frozen=True, slots=True)
class DeclaredBasis:
    organisation: str
    purpose: str
    basis: str  # a key of LEGAL_BASES


def grant_events(grant: Grant, withdrawn: datetime | None,
                 invalidated: Iterable[tuple[datetime, str]],
                 now: datetime, renewed_by: str | None = None,
                 lifted: Iterable[tuple[datetime, str]] = ()) -> list[ConsentEvent]:
    """The history of one grant, oldest first. A grant that ended because
    ``renewed_by`` renewed it was not withdrawn: the consent goes on under the
    renewal, so its end is a ``renewed`` event naming it. ``invalidated`` and
    ``lifted``: (when, by whom) an employer's policy suspended the grant, and
    lifted a suspension."""
    events = [ConsentEvent("renewed" if grant.renews else "given", grant.created,
                           grant.holder)]
    events += [ConsentEvent("invalidated", at, by) for at, by in invalidated]
    events += [ConsentEvent("lifted", at, by) for at, by in lifted]
    if withdrawn is not None and renewed_by is not None:
        events.append(ConsentEvent("renewed", withdrawn, grant.holder, renewed_by))
    elif withdrawn is not None:
        events.append(ConsentEvent("withdrawn", withdrawn, grant.holder))
    elif grant.valid_until <= now:
        events.append(ConsentEvent("expired", grant.valid_until, grant.holder))
    return sorted(events, key=lambda e: e.at)


def consent_record(grant: Grant, event: ConsentEvent,
                   bases: Iterable[DeclaredBasis] = ()) -> dict[str, Any]:
    """The ISO/IEC TS 27560 record of ``event`` in the life of ``grant``."""
    identifier = str(uuid.uuid5(
        uuid.NAMESPACE_URL, f"{grant.id}#{event.status}@{format_time(event.at)}"))
    record: dict[str, Any] = {
        "@context": CONSENT_RECORD_CONTEXT_URL,
        "id": f"urn:uuid:{identifier}",
        "type": "ConsentRecord",
        "identifier": identifier,
        "conformsTo": RECORD_PROFILE,
        "dataSubject": grant.holder,
        "consentStatus": STATUSES[event.status],
        "indicatedAt": format_time(event.at),
        "indicatedBy": event.by,
        "consentControl": "dpv:WithdrawConsent",
        "jurisdiction": "loc:NL",
        "notice": NOTICE,
        "language": "nl",
        "grant": grant.id,
        "process": _process(grant, bases),
        "signedGrant": grant.to_json(),
    }
    if grant.renews:
        record["renews"] = grant.renews
    if event.renewed_by:
        record["renewedBy"] = event.renewed_by
    return record


def _process(grant: Grant, bases: Iterable[DeclaredBasis]) -> dict[str, Any]:
    audience = grant.audience
    recipient: dict[str, Any] = {"type": "Audience", "audienceKind": audience.kind}
    if audience.ref is not None:
        recipient["audienceReference"] = audience.ref
    if audience.organisations:
        recipient["organisation"] = list(audience.organisations)
    return {
        "type": "Process",
        "purpose": [{"id": PURPOSES[p].iri, "type": "Purpose",
                     "broader": PURPOSES[p].dpv_broader} for p in grant.purposes],
        "personalData": [{"id": FIELD_NS + key, "type": "PersonalData",
                          "identifier": key, "path": FIELDS[key].dotted_path,
                          "broader": PD_CATEGORY[key]} for key in grant.fields],
        "recipient": recipient,
        "validFrom": format_time(grant.valid_from),
        "duration": {"type": "UntilTimeDuration",
                     "until": format_time(grant.valid_until)},
        "declaredBasis": [
            {"type": "DeclaredLegalBasis", "declaredBy": b.organisation,
             "forPurpose": PURPOSES[b.purpose].iri,
             "legalBasis": LEGAL_BASES[b.basis]}
            for b in bases if b.purpose in grant.purposes
        ],
    }


def consent_receipt(records: list[dict[str, Any]], signer, now: datetime
                    ) -> dict[str, Any]:
    """A receipt holding ``records``, signed by ``signer`` (the operator's key)."""
    identifier = str(uuid.uuid4())
    body = {
        "@context": CONSENT_RECORD_CONTEXT_URL,
        "id": f"urn:uuid:{identifier}",
        "type": "ConsentReceipt",
        "identifier": identifier,
        "conformsTo": RECEIPT_PROFILE,
        "created": format_time(now),
        "issuer": signer.did,
        "recordOfActivity": [_embedded(r) for r in records],
    }
    return sign_document(body, signer)


def verify_receipt(receipt: dict[str, Any], issuer: str) -> None:
    """Raise InvalidSignature unless ``issuer`` signed ``receipt`` as it stands."""
    if not isinstance(receipt, dict) or receipt.get("issuer") != issuer:
        raise InvalidSignature()
    verify_document(receipt, issuer)


def _embedded(record: dict[str, Any]) -> dict[str, Any]:
    """A record inside a receipt shares the receipt's context."""
    return {k: v for k, v in record.items() if k != "@context"}
