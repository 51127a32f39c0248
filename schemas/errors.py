"""The exception tree of the `schemas` package.

    SchemaError                     500  schema-error
    ├── ReferenceDataMissing        500  reference-data-missing
    ├── ReferenceDataInvalid        500  reference-data-invalid
    ├── ShapesNotCompilable         500  shapes-not-compilable   (shape, reason)
    ├── UnknownOrganisation         400  unknown-organisation
    │   ├── UnknownMunicipality     400  unknown-municipality
    │   └── UnknownProvince         400  unknown-province
    ├── UnknownSkill                400  unknown-skill
    ├── UnknownOccupation           400  unknown-occupation
    ├── UnsupportedLanguage         400  unsupported-language
    ├── InvalidDocument             400  invalid-document        (problems)
    ├── RemoteContextRefused        400  remote-context-refused  (url)
    ├── DocumentTooLarge            413  document-too-large      (size, limit)
    └── UnsupportedMediaType        415  unsupported-media-type  (media_type)

Every class carries its HTTP `status` and a stable kebab-case `code` as class
attributes; the facts (which file, which line, which code) are instance attributes.
Broken reference data is the operator's problem (500); an unknown code or URI in a
request is the caller's mistake (400).
"""

from __future__ import annotations

from pathlib import Path


class SchemaError(Exception):
    """Base of every error raised by the `schemas` package."""

    status = 500
    code = "schema-error"


class ReferenceDataMissing(SchemaError):
    """A reference data file (or its directory) is missing or cannot be read."""

    status = 500
    code = "reference-data-missing"

    def __init__(self, path: Path, reason: str = "not found") -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            f"reference data {path} is missing or unreadable ({reason}); "
            "the reference data directory is set by the setting VG_REFERENCE_DIR"
        )


class ReferenceDataInvalid(SchemaError):
    """A reference data file has a malformed header or row."""

    status = 500
    code = "reference-data-invalid"

    def __init__(self, path: Path, line: int, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        super().__init__(f"{path}, line {line}: {reason}")


class ShapesNotCompilable(SchemaError):
    """A SHACL shape uses a construct the shapes compiler does not implement."""

    status = 500
    code = "shapes-not-compilable"

    def __init__(self, shape: str, reason: str) -> None:
        self.shape = shape
        self.reason = reason
        super().__init__(f"shape {shape} cannot be compiled: {reason}")


class UnknownOrganisation(SchemaError):
    """No organisation has this code.

    The code asked for is `organisation_code`, not `code`: an instance attribute
    named `code` would shadow the class attribute that holds the error code.
    """

    status = 400
    code = "unknown-organisation"
    kind = "organisation"

    def __init__(self, organisation_code: str) -> None:
        self.organisation_code = organisation_code
        super().__init__(
            f"{self.kind} code must be a known {self.kind} code, "
            f"got {organisation_code!r}"
        )


class UnknownMunicipality(UnknownOrganisation):
    """No municipality has this code (it may still name another organisation)."""

    code = "unknown-municipality"
    kind = "municipality"


class UnknownProvince(UnknownOrganisation):
    """No province has this code (it may still name another organisation)."""

    code = "unknown-province"
    kind = "province"


class UnknownSkill(SchemaError):
    """No ESCO skill has this URI."""

    status = 400
    code = "unknown-skill"

    def __init__(self, uri: str) -> None:
        self.uri = uri
        super().__init__(f"skill must be a known ESCO skill URI, got {uri!r}")


class UnknownOccupation(SchemaError):
    """No ESCO occupation has this URI."""

    status = 400
    code = "unknown-occupation"

    def __init__(self, uri: str) -> None:
        self.uri = uri
        super().__init__(f"occupation must be a known ESCO occupation URI, got {uri!r}")


class UnsupportedLanguage(SchemaError):
    """A label language other than Dutch or English was asked for."""

    status = 400
    code = "unsupported-language"

    def __init__(self, lang: str, supported: tuple[str, ...]) -> None:
        self.lang = lang
        self.supported = supported
        super().__init__(f"lang must be one of {', '.join(supported)}, got {lang!r}")


class InvalidDocument(SchemaError):
    """A JSON-LD document is malformed or does not conform to the shapes."""

    status = 400
    code = "invalid-document"

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class RemoteContextRefused(SchemaError):
    """A document names a JSON-LD context that does not ship with the system.

    It is refused, never fetched (DESIGN.md invariant 6)."""

    status = 400
    code = "remote-context-refused"

    def __init__(self, url: object) -> None:
        self.url = str(url)[:200]
        super().__init__(
            f"JSON-LD context {self.url!r} is not one of the contexts shipped with "
            "the system; remote contexts are never fetched"
        )


class DocumentTooLarge(SchemaError):
    status = 413
    code = "document-too-large"

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"document is {size} bytes; at most {limit} are accepted")


class UnsupportedMediaType(SchemaError):
    status = 415
    code = "unsupported-media-type"

    def __init__(self, media_type: str | None, charset: str | None = None) -> None:
        self.media_type = (media_type or "")[:100]
        self.charset = None if charset is None else charset[:40]
        if self.charset is not None:
            # RFC 8259 section 8.1: JSON between systems is UTF-8; a body said
            # to be in another charset would be read as UTF-8 all the same.
            super().__init__(f"the body must be UTF-8, not charset={self.charset}")
            return
        super().__init__(
            "the body must be application/ld+json or application/json, "
            f"not {self.media_type or 'unlabelled'}"
        )
