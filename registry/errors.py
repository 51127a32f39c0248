"""Errors of the registry.

    RegistryError              500 registry-error
    ├── NotAuthenticated       401 not-authenticated   (opaque)
    ├── Forbidden              403 forbidden           (action)
    ├── AssignmentNotFound     404 assignment-not-found (assignment_id)
    ├── AssignmentNotOffered   404 assignment-not-offered (assignment_id: a holder
    │                              asked for a draft or for none)
    ├── VideoNotFound          404 video-not-found     (share)
    ├── InvalidAssignment      400 invalid-assignment  (problems)
    ├── InvalidCursor          400 invalid-cursor
    ├── InvalidTransition      409 invalid-transition  (assignment_id, current, action)
    │   └── AssignmentNotOpen  409 assignment-not-open (the holder's side of it)
    ├── ReplayedDocument       409 replayed-document   (sequence, last_sequence)
    ├── GrantNotLive           400 grant-not-live      (grant_id)
    ├── GrantWithdrawn         409 grant-withdrawn     (grant_id)
    ├── GrantIdTaken           409 grant-id-taken      (grant_id)
    ├── UnknownEmployer        400 unknown-employer
    ├── InvalidErasureRequest  400 invalid-erasure-request (problems)
    ├── HeadersOnly            200 headers-only       (a HEAD request reached data:
    │                              answered without it, see gate.Requester)
    └── StorageFailed          503 storage-unavailable
"""

from __future__ import annotations


class RegistryError(Exception):
    status = 500
    code = "registry-error"


class NotAuthenticated(RegistryError):
    status = 401
    code = "not-authenticated"

    def __init__(self) -> None:
        super().__init__("valid credentials are required")


class Forbidden(RegistryError):
    status = 403
    code = "forbidden"

    def __init__(self, action: str):
        super().__init__(f"not allowed to {action}")
        self.action = action


class AssignmentNotFound(RegistryError):
    status = 404
    code = "assignment-not-found"

    def __init__(self, assignment_id: int):
        super().__init__(f"assignment {assignment_id} does not exist for this organisation")
        self.assignment_id = assignment_id


class AssignmentNotOffered(RegistryError):
    """A holder named an assignment that is not offered to holders: none of that
    number, or a draft, which nobody outside its organisation may know of. Said in
    the holder's words; the same answer for both, so a draft is not revealed."""

    status = 404
    code = "assignment-not-offered"

    def __init__(self, assignment_id: int):
        super().__init__(f"assignment {assignment_id} does not exist or is not open")
        self.assignment_id = assignment_id


class VideoNotFound(RegistryError):
    """No intro video under this address that the requester may watch: unknown,
    ended (withdrawn, expired, erased) and not granted to the requester look the
    same, so the answer tells nobody whom a share belongs to."""

    status = 404
    code = "video-not-found"

    def __init__(self, share: str):
        super().__init__("no intro video you may watch is at this address")
        self.share = share


class InvalidAssignment(RegistryError):
    status = 400
    code = "invalid-assignment"

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class InvalidCursor(RegistryError):
    status = 400
    code = "invalid-cursor"

    def __init__(self) -> None:
        super().__init__("cursor must be a value returned as nextCursor by this list")


class InvalidTransition(RegistryError):
    status = 409
    code = "invalid-transition"

    def __init__(self, assignment_id: int, current: str, action: str):
        super().__init__(
            f"assignment {assignment_id} is {current}: can not {action} it")
        self.assignment_id = assignment_id
        self.current = current  # not ``status``: that is the HTTP status
        self.action = action


class AssignmentNotOpen(InvalidTransition):
    """A holder's decision on an assignment that takes none now (paused, filled,
    closed): the organisation's refusal in the holder's words."""

    code = "assignment-not-open"

    def __init__(self, assignment_id: int, current: str, action: str):
        super().__init__(assignment_id, current, action)
        Exception.__init__(self, f"assignment {assignment_id} is {current}: it "
                                 f"takes no {action} from holders now")


class ReplayedDocument(RegistryError):
    status = 409
    code = "replayed-document"

    def __init__(self, sequence: int, last_sequence: int):
        super().__init__(
            f"sequence {sequence} is not newer than the last accepted {last_sequence}"
        )
        self.sequence = sequence
        self.last_sequence = last_sequence


class GrantNotLive(RegistryError):
    status = 400
    code = "grant-not-live"

    def __init__(self, grant_id: str):
        super().__init__("the grant is not valid at this time")
        self.grant_id = grant_id


class GrantWithdrawn(RegistryError):
    status = 409
    code = "grant-withdrawn"

    def __init__(self, grant_id: str):
        super().__init__("the grant was withdrawn; a withdrawn grant never comes back")
        self.grant_id = grant_id


class GrantIdTaken(RegistryError):
    status = 409
    code = "grant-id-taken"

    def __init__(self, grant_id: str):
        super().__init__("the grant id is already in use; grant ids must be unique")
        self.grant_id = grant_id


class UnknownEmployer(RegistryError):
    status = 400
    code = "unknown-employer"

    def __init__(self) -> None:
        super().__init__("the disclosure's employer is not a known organisation")


class StorageFailed(RegistryError):
    status = 503
    code = "storage-unavailable"

    def __init__(self) -> None:
        super().__init__("the registry store is unavailable")


class InvalidErasureRequest(RegistryError):
    status = 400
    code = "invalid-erasure-request"

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


class HeadersOnly(RegistryError):
    """Not a failure: a HEAD request passed every check and would now be shown
    personal data. It is answered with the status alone; the data is neither
    shown nor logged, and no Content-Length tells its size."""

    status = 200
    code = "headers-only"

    def __init__(self) -> None:
        super().__init__("a HEAD request is answered without the data")
