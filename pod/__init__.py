"""The holder's personal encrypted store."""

from .errors import (
    ArchiveTooLarge,
    BinaryNotFound,
    InboxFull,
    InboxQuotaReached,
    InvalidName,
    InvalidPath,
    MethodNotAllowed,
    NotAcceptable,
    PodNotFound,
    UnsupportedMediaType,
    MessageNotFound,
    RangeNotSatisfiable,
    DecryptionFailed,
    GrantNotFound,
    GrantLimitReached,
    GrantNotLive,
    GrantRenewed,
    InvalidArchive,
    PodError,
    PodExists,
    PodBusy,
    PodLocked,
    PreconditionFailed,
    RollbackDetected,
    SessionInvalid,
    TooManyAttempts,
    TooManyCreated,
    UnlockFailed,
    StorageQuotaReached,
    VersionNotFound,
    WeakPassphrase,
    WorkcontextMissing,
)
from .creations import Creations
from .holder import ERASURE_TYPE, GrantRecord, UnlockedPod, VersionInfo
from .sessions import SessionSealer
from .store import PodStore

__all__ = [
    "ArchiveTooLarge", "BinaryNotFound", "InboxFull", "InboxQuotaReached",
    "InvalidName", "MessageNotFound",
    "InvalidPath", "MethodNotAllowed", "NotAcceptable", "PodNotFound",
    "UnsupportedMediaType", "RangeNotSatisfiable",
    "DecryptionFailed", "GrantNotFound", "GrantNotLive", "GrantRenewed",
    "InvalidArchive", "PodError",
    "PodBusy", "PodExists", "PodLocked", "PreconditionFailed", "RollbackDetected",
    "SessionInvalid", "TooManyAttempts", "TooManyCreated", "UnlockFailed",
    "VersionNotFound", "Creations",
    "WeakPassphrase",
    "GrantLimitReached", "StorageQuotaReached", "WorkcontextMissing",
    "ERASURE_TYPE", "GrantRecord", "UnlockedPod", "VersionInfo", "SessionSealer",
    "PodStore",
]
