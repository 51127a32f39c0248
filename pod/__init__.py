"""The holder's personal encrypted store."""

from .errors import (
    DecryptionFailed,
    GrantNotFound,
    GrantNotLive,
    PodError,
    PodExists,
    SessionInvalid,
    UnlockFailed,
    VersionNotFound,
    WeakPassphrase,
)
from .holder import GrantRecord, UnlockedPod, VersionInfo
from .sessions import SessionSealer
from .store import PodStore

__all__ = [
    "DecryptionFailed", "GrantNotFound", "GrantNotLive", "PodError", "PodExists", "SessionInvalid",
    "UnlockFailed", "VersionNotFound", "WeakPassphrase", "GrantRecord", "UnlockedPod",
    "VersionInfo", "SessionSealer", "PodStore",
]
