"""The organisations' side: verified disclosures, assignments, matching, one gate."""

from .access import ROLES, Access, OrganisationRow, hash_key
from .assignments import CIRCLES, AssignmentSpec, StoredAssignment
from .db import create_tables, drop_tables, make_engine
from .errors import (
    AssignmentNotFound,
    Forbidden,
    GrantIdTaken,
    GrantNotLive,
    GrantWithdrawn,
    InvalidAssignment,
    NotAuthenticated,
    RegistryError,
    ReplayedDocument,
    StorageFailed,
)
from .gate import ConsentGate, Requester, VisibleProfile
from .ingest import Accepted, pseudonym_for
from .matching import Ranked, rank
from .service import MATCHING, CandidatePage, Registry

__all__ = [
    "ROLES", "Access", "OrganisationRow", "hash_key", "CIRCLES", "AssignmentSpec",
    "StoredAssignment", "create_tables", "drop_tables", "make_engine",
    "AssignmentNotFound", "Forbidden", "GrantIdTaken", "GrantNotLive", "GrantWithdrawn", "InvalidAssignment",
    "NotAuthenticated", "RegistryError", "ReplayedDocument", "StorageFailed",
    "ConsentGate", "Requester", "VisibleProfile", "Accepted", "pseudonym_for",
    "Ranked", "rank", "MATCHING", "CandidatePage", "Registry",
]
