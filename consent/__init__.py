"""The consent model: grants, audiences, purposes, projection, signed documents."""

from .audience import Audience, Geography
from .disclosure import (
    Disclosure,
    Withdrawal,
    make_disclosure,
    make_withdrawal,
    read_disclosure,
    read_withdrawal,
)
from .errors import (
    ConsentError,
    FieldNotAllowedForPurpose,
    InvalidAudience,
    InvalidGrant,
    InvalidSignature,
    ProjectionMismatch,
    UnknownField,
)
from .grant import Grant, grant_from_json, new_grant
from .keys import HolderKey, did_from_public_key, public_key_from_did
from .projection import disclosed_fields, project
from .signed import sign_document, verify_document
from .timefmt import format_time, parse_time

__all__ = [
    "Audience", "Geography", "Disclosure", "Withdrawal", "make_disclosure",
    "make_withdrawal", "read_disclosure", "read_withdrawal", "ConsentError",
    "FieldNotAllowedForPurpose", "InvalidAudience", "InvalidGrant", "InvalidSignature",
    "ProjectionMismatch", "UnknownField", "Grant", "grant_from_json", "new_grant",
    "HolderKey", "did_from_public_key", "public_key_from_did", "disclosed_fields",
    "project", "sign_document", "verify_document", "format_time", "parse_time",
]
