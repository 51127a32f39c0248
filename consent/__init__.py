"""The consent model: grants, audiences, purposes, projection, signed documents."""

from .audience import (
    EMPLOYER_KINDS,
    KINDS,
    Audience,
    Geography,
    corop_of,
    safety_region_of,
    sector_of,
)
from .disclosure import (
    Disclosure,
    Withdrawal,
    make_disclosure,
    make_withdrawal,
    read_disclosure,
    read_withdrawal,
)
from .errors import (
    AudienceNeedsEmployer,
    AudienceRefusedByEmployer,
    ConsentError,
    FieldNotAllowedForPurpose,
    InvalidAudience,
    InvalidGrant,
    InvalidPolicy,
    InvalidRecord,
    InvalidSignature,
    InvalidVideoShare,
    ProjectionMismatch,
    UnknownField,
)
from .grant import (
    MAX_VALIDITY,
    Grant,
    grant_from_json,
    grant_in_signed_document,
    grant_urn,
    new_grant,
)
from .keys import HolderKey, did_from_public_key, public_key_from_did
from .policy import EmployerPolicy, check_audience_for_holder
from .record import (
    ConsentEvent,
    DeclaredBasis,
    consent_receipt,
    consent_record,
    grant_events,
    verify_receipt,
)
from .projection import disclosed_fields, project
from .signed import sign_document, verify_document
from .timefmt import format_time, parse_time

__all__ = [
    "Audience", "Geography", "Disclosure", "Withdrawal", "make_disclosure",
    "make_withdrawal", "read_disclosure", "read_withdrawal", "ConsentError",
    "FieldNotAllowedForPurpose", "InvalidAudience", "InvalidGrant", "InvalidSignature",
    "ProjectionMismatch", "UnknownField", "Grant", "grant_from_json",
    "grant_in_signed_document", "grant_urn",
    "new_grant", "MAX_VALIDITY",
    "HolderKey", "did_from_public_key", "public_key_from_did", "disclosed_fields",
    "project", "sign_document", "verify_document", "format_time", "parse_time",
    "EMPLOYER_KINDS", "KINDS", "corop_of", "safety_region_of", "sector_of",
    "AudienceNeedsEmployer", "AudienceRefusedByEmployer", "InvalidPolicy",
    "InvalidRecord", "EmployerPolicy", "check_audience_for_holder", "ConsentEvent",
    "DeclaredBasis", "consent_receipt", "consent_record", "grant_events",
    "verify_receipt", "InvalidVideoShare",
]
