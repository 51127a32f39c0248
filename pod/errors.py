"""Errors of the pod.

    PodError                  500 pod-error
    ├── UnlockFailed          401 unlock-failed     (opaque: wrong passphrase or no pod)
    ├── SessionInvalid        401 session-invalid   (opaque: forged, expired or foreign)
    ├── PodExists             409 pod-exists        (did)
    ├── VersionNotFound       404 version-not-found (version)
    ├── GrantNotFound         404 grant-not-found   (grant_id)
    ├── GrantNotLive          409 grant-not-live    (grant_id: withdrawn or being withdrawn)
    │   └── GrantRenewed      409 grant-renewed     (grant_id, renewed_by: its renewal)
    ├── GrantLimitReached     409 grant-limit-reached (limit)
    ├── WorkcontextMissing    409 workcontext-missing (nothing stored to disclose yet)
    ├── WeakPassphrase        400 weak-passphrase
    ├── TooManyAttempts       429 too-many-attempts (retry_after: seconds)
    ├── TooManyCreated        429 too-many-created  (retry_after: seconds)
    ├── PreconditionFailed    412 precondition-failed (expected, current: a stale ETag)
    ├── InvalidArchive        400 invalid-archive   (problems: what is wrong with it)
    ├── ArchiveTooLarge       413 archive-too-large (limit: the pod does not fit one)
    ├── PodLocked             409 pod-locked        (the keys were dropped from memory)
    ├── PodBusy               503 pod-busy          (retry_after: another request
    │                                                holds the grant lock too long)
    ├── BinaryNotFound        404 resource-not-found (name)
    ├── InvalidName           400 invalid-resource-name (name)
    ├── RangeNotSatisfiable   416 range-not-satisfiable (size)
    ├── MessageNotFound       404 message-not-found (message_id)
    ├── InboxFull             409 inbox-full        (limit)
    ├── InboxQuotaReached     409 inbox-quota-reached (limit: messages per origin)
    ├── StorageQuotaReached   409 storage-quota-reached (limit: files or bytes per pod)
    ├── PodNotFound           404 pod-not-found     (opaque: absent or not yours)
    ├── InvalidPath           400 invalid-path      (path)
    ├── NotAcceptable         406 not-acceptable    (offered)
    ├── UnsupportedMediaType  415 unsupported-media-type (expected)
    ├── MethodNotAllowed      405 method-not-allowed (allowed)
    └── DecryptionFailed      500 pod-unreadable    (opaque: tampered or foreign data)
        └── RollbackDetected  500 pod-rolled-back   (opaque: an older state put back)
"""

from __future__ import annotations

MAX_NAME = 120


class PodError(Exception):
    status = 500
    code = "pod-error"


class UnlockFailed(PodError):
    """The passphrase is wrong or the pod does not exist; callers cannot tell which."""

    status = 401
    code = "unlock-failed"

    def __init__(self) -> None:
        super().__init__("the pod could not be unlocked")


class SessionInvalid(PodError):
    status = 401
    code = "session-invalid"

    def __init__(self) -> None:
        super().__init__("the session is not valid")


class PodExists(PodError):
    status = 409
    code = "pod-exists"

    def __init__(self, did: str):
        super().__init__("a pod for this identity already exists")
        self.did = did


class VersionNotFound(PodError):
    status = 404
    code = "version-not-found"

    def __init__(self, version: int):
        super().__init__(f"version {version} does not exist")
        self.version = version


class GrantNotFound(PodError):
    status = 404
    code = "grant-not-found"

    def __init__(self, grant_id: str):
        super().__init__("no such grant in this pod")
        self.grant_id = grant_id


class GrantNotLive(PodError):
    status = 409
    code = "grant-not-live"

    def __init__(self, grant_id: str):
        super().__init__("the grant is withdrawn or being withdrawn")
        self.grant_id = grant_id


class GrantRenewed(GrantNotLive):
    """The grant was renewed: the consent goes on under ``renewed_by``, which is
    the grant to renew or withdraw."""

    code = "grant-renewed"

    def __init__(self, grant_id: str, renewed_by: str):
        Exception.__init__(self, f"the grant was renewed as {renewed_by}")
        self.grant_id = grant_id
        self.renewed_by = renewed_by
        self.problem_members = {"renewedBy": renewed_by}


class WeakPassphrase(PodError):
    status = 400
    code = "weak-passphrase"

    def __init__(self, minimum: int):
        super().__init__(f"passphrase must be at least {minimum} characters, "
                         "not only white space or one character repeated")
        self.minimum = minimum


class TooManyAttempts(PodError):
    """Too many sign-ins of this client at once, or too many failed ones of this
    pod (attempts.py); says nothing of whether the pod exists."""

    status = 429
    code = "too-many-attempts"

    def __init__(self, retry_after: int):
        super().__init__(f"too many sign-in attempts; try again in {retry_after} s")
        self.retry_after = retry_after

    @property
    def response_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}  # RFC 6585 4, RFC 9110 10.2.3


class TooManyCreated(PodError):
    """This client address created more without credentials (pods, holders'
    disclosures, withdrawals) than it may for now (creations.py, ``Creations``)."""

    status = 429
    code = "too-many-created"

    def __init__(self, retry_after: int):
        super().__init__(f"too much created from this address; try again in "
                         f"{retry_after} s")
        self.retry_after = retry_after

    @property
    def response_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}  # RFC 6585 4, RFC 9110 10.2.3


class DecryptionFailed(PodError):
    status = 500
    code = "pod-unreadable"

    def __init__(self) -> None:
        super().__init__("stored data could not be decrypted")


class RollbackDetected(DecryptionFailed):
    """The state on disk is older than the pod's witnessed generation."""

    code = "pod-rolled-back"


class PreconditionFailed(PodError):
    """A write named a version that is no longer the current one (RFC 9110 13.1.1)."""

    status = 412
    code = "precondition-failed"

    def __init__(self, expected: str, current: str | None):
        super().__init__("the resource changed since it was read; read it again")
        self.expected = expected
        self.current = current


class InvalidArchive(PodError):
    status = 400
    code = "invalid-archive"

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


class ArchiveTooLarge(PodError):
    """The pod's binaries do not fit in one archive; each stays downloadable alone."""

    status = 413
    code = "archive-too-large"

    def __init__(self, limit: int):
        super().__init__(f"an archive is at most {limit} bytes; download the larger "
                         "binaries one by one")
        self.limit = limit


class PodLocked(PodError):
    status = 409
    code = "pod-locked"

    def __init__(self) -> None:
        super().__init__("the pod is locked")


class PodBusy(PodError):
    """The pod's grant lock stayed taken for longer than a request waits for it
    (another request of the holder is stuck holding it). Nothing was changed; the
    request can be sent again (RFC 9110 15.6.4, 10.2.3)."""

    status = 503
    code = "pod-busy"

    def __init__(self, retry_after: int):
        super().__init__("another request of this pod is changing its consent; "
                         f"try again in {retry_after} seconds")
        self.retry_after = retry_after

    @property
    def response_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class BinaryNotFound(PodError):
    status = 404
    code = "resource-not-found"

    def __init__(self, name: str):
        super().__init__("no such resource in this pod")
        self.name = name


class InvalidName(PodError):
    status = 400
    code = "invalid-resource-name"

    def __init__(self, name: str):
        super().__init__(
            f"a resource name must be 1-{MAX_NAME} of a-z, 0-9, '-', '_' and '.', "
            "not starting with '.'")
        self.name = name


class RangeNotSatisfiable(PodError):
    status = 416
    code = "range-not-satisfiable"

    def __init__(self, size: int):
        super().__init__(f"the range lies outside the resource of {size} bytes")
        self.size = size

    @property
    def response_headers(self) -> dict[str, str]:
        """The current length, as a 416 answer carries it (RFC 9110 14.4)."""
        return {"Content-Range": f"bytes */{self.size}"}


class MessageNotFound(PodError):
    status = 404
    code = "message-not-found"

    def __init__(self, message_id: str):
        super().__init__("no such message in this inbox")
        self.message_id = message_id


class InboxFull(PodError):
    status = 409
    code = "inbox-full"

    def __init__(self, limit: int):
        super().__init__(f"the inbox holds at most {limit} messages")
        self.limit = limit


class InboxQuotaReached(PodError):
    status = 409
    code = "inbox-quota-reached"

    def __init__(self, limit: int):
        super().__init__(f"one sender may have at most {limit} messages in an inbox")
        self.limit = limit


class GrantLimitReached(PodError):
    status = 409
    code = "grant-limit-reached"

    def __init__(self, limit: int, what: str):
        super().__init__(f"a pod holds at most {limit} {what}; withdraw one first")
        self.limit = limit


class WorkcontextMissing(PodError):
    status = 409
    code = "workcontext-missing"

    def __init__(self) -> None:
        super().__init__("store a Workcontext first: a grant discloses its fields")


class StorageQuotaReached(PodError):
    status = 409
    code = "storage-quota-reached"

    def __init__(self, limit: int, what: str):
        super().__init__(f"a pod stores at most {limit} {what}; delete a file first")
        self.limit = limit


class PodNotFound(PodError):
    """The same answer for a pod that does not exist and one that is not the
    caller's, so a path reveals nothing about other pods."""

    status = 404
    code = "pod-not-found"

    def __init__(self) -> None:
        super().__init__("no such pod")


class InvalidPath(PodError):
    status = 400
    code = "invalid-path"

    def __init__(self, path: str):
        super().__init__(
            "a pod path must be lower case, without percent-encoding, empty segments, "
            "'.' or '..' segments or backslashes")
        self.path = path


class NotAcceptable(PodError):
    status = 406
    code = "not-acceptable"

    def __init__(self, offered: list[str]):
        super().__init__("this resource is offered as " + ", ".join(offered))
        self.offered = tuple(offered)


class UnsupportedMediaType(PodError):
    status = 415
    code = "unsupported-media-type"

    def __init__(self, expected: str):
        super().__init__(f"the body must be {expected}")
        self.expected = expected


class MethodNotAllowed(PodError):
    status = 405
    code = "method-not-allowed"

    def __init__(self, allowed: list[str], hint: str = ""):
        super().__init__(("allowed: " + ", ".join(allowed) + (f"; {hint}" if hint else "")))
        self.allowed = tuple(allowed)

    @property
    def response_headers(self) -> dict[str, str]:
        """A 405 answer names the methods the resource supports (RFC 9110 15.5.6)."""
        return {"Allow": ", ".join(self.allowed)}
