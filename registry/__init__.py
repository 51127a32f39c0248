"""The organisations' side: verified disclosures, assignments, matching, one gate."""

from .access import ROLES, Access, OrganisationRow, hash_key
from .assignments import (
    CIRCLES,
    STATUSES,
    TRANSITIONS,
    AssignmentSpec,
    StoredAssignment,
)
from .bulk import BulkIngest, BulkResult
from .db import create_tables, drop_tables, make_engine
from .errors import (
    AssignmentNotFound,
    AssignmentNotOffered,
    AssignmentNotOpen,
    HeadersOnly,
    Forbidden,
    GrantIdTaken,
    GrantNotLive,
    GrantWithdrawn,
    InvalidAssignment,
    InvalidCursor,
    InvalidTransition,
    InvalidErasureRequest,
    NotAuthenticated,
    RegistryError,
    ReplayedDocument,
    StorageFailed,
    UnknownEmployer,
    VideoNotFound,
)
from .erasure import Erased, read_erasure
from .gate import ConsentGate, Requester, Signals, VisibleProfile
from .ingest import Accepted, pseudonym_for
from .matching import Matcher, Ranked, Scored
from .migrate import upgrade
from .policies import Notice, Policies
from .service import MATCHING, CandidatePage, Registry
from .swipes import checked_subject
from .inbox_delivery import FileDropInbox, InboxDelivery, MemoryInbox
from .work import WorkLife
from .video_shares import VideoShares

__all__ = [
    "ROLES", "Access", "OrganisationRow", "hash_key", "CIRCLES", "STATUSES",
    "TRANSITIONS", "AssignmentSpec", "StoredAssignment", "BulkIngest", "BulkResult",
    "create_tables", "drop_tables", "make_engine", "AssignmentNotFound", "Forbidden",
    "AssignmentNotOffered", "AssignmentNotOpen", "HeadersOnly",
    "GrantIdTaken", "GrantNotLive", "GrantWithdrawn", "InvalidAssignment",
    "InvalidCursor", "InvalidTransition", "NotAuthenticated", "RegistryError",
    "ReplayedDocument", "StorageFailed", "ConsentGate", "Requester", "Signals",
    "VisibleProfile", "Accepted", "pseudonym_for", "Matcher", "Ranked", "Scored",
    "upgrade", "MATCHING", "CandidatePage", "Registry", "FileDropInbox",
    "InboxDelivery", "MemoryInbox", "WorkLife", "Notice", "Policies",
    "UnknownEmployer",
    "Erased", "read_erasure", "InvalidErasureRequest", "VideoNotFound",
    "VideoShares", "checked_subject",
]
