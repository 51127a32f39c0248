"""Errors of the consent model.

    ConsentError                      500 consent-error
    ├── InvalidGrant                  400 invalid-grant       (problems: list[str])
    ├── UnknownField                  400 unknown-field       (field)
    ├── FieldNotAllowedForPurpose     400 field-not-allowed-for-purpose (field, purpose)
    ├── InvalidAudience               400 invalid-audience    (detail)
    ├── ProjectionMismatch            400 projection-mismatch (paths)
    ├── AudienceNeedsEmployer         400 audience-needs-employer (kind)
    ├── AudienceRefusedByEmployer     403 audience-refused-by-employer
    │                                     (kind, employer, reason)
    ├── InvalidPolicy                 400 invalid-policy      (detail)
    ├── InvalidRecord                 400 invalid-consent-record (problems)
    └── InvalidSignature              400 invalid-signature   (opaque: says nothing more)
        └── InvalidVideoShare         400 invalid-video-share (opaque: an offer or a
                                          chunk of a shared video that does not open)
"""

from __future__ import annotations


class ConsentError(Exception):
    status = 500
    code = "consent-error"


class InvalidGrant(ConsentError):
    status = 400
    code = "invalid-grant"

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class UnknownField(ConsentError):
    status = 400
    code = "unknown-field"

    def __init__(self, field: str):
        super().__init__(f"{field!r} is not a field of the catalogue")
        self.field = field


class FieldNotAllowedForPurpose(ConsentError):
    status = 400
    code = "field-not-allowed-for-purpose"

    def __init__(self, field: str, purpose: str):
        super().__init__(f"field {field!r} can not be granted for purpose {purpose!r}")
        self.field = field
        self.purpose = purpose


class InvalidAudience(ConsentError):
    status = 400
    code = "invalid-audience"

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class ProjectionMismatch(ConsentError):
    status = 400
    code = "projection-mismatch"

    def __init__(self, paths: list[str]):
        super().__init__(
            "disclosure holds data outside its grant: " + ", ".join(sorted(paths))
        )
        self.paths = paths


class InvalidSignature(ConsentError):
    """A signature did not verify. Deliberately says nothing about why."""

    status = 400
    code = "invalid-signature"

    def __init__(self) -> None:
        super().__init__("signature verification failed")


class AudienceNeedsEmployer(ConsentError):
    status = 400
    code = "audience-needs-employer"

    def __init__(self, kind: str):
        super().__init__(
            f"an audience of kind {kind} needs the holder's own employer; a holder "
            "without an employer can choose any audience that does not depend on one")
        self.kind = kind


class AudienceRefusedByEmployer(ConsentError):
    """The holder's employer does not let its employees grant this audience."""

    status = 403
    code = "audience-refused-by-employer"

    def __init__(self, kind: str, employer: str, reason: str):
        super().__init__(f"employer {employer} does not allow this audience: {reason}")
        self.kind = kind
        self.employer = employer
        self.reason = reason


class InvalidPolicy(ConsentError):
    status = 400
    code = "invalid-policy"

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class InvalidRecord(ConsentError):
    """An exported consent record does not conform to the shipped SHACL shapes."""

    status = 400
    code = "invalid-consent-record"

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class InvalidVideoShare(InvalidSignature):
    """A video share's offer or chunk that does not open. Says nothing about why."""

    code = "invalid-video-share"
