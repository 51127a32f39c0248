"""Vocabulary: the Workcontext context and shapes, the field catalogue, reference data."""

from .catalogue import FIELDS, FIELDS_OF_WORK, PURPOSES, Field, Purpose, Sensitivity
from .dates import DAY_RANGE, FIRST_DAY, LAST_DAY, day_in_range
from .errors import (
    DocumentTooLarge,
    InvalidDocument,
    ReferenceDataInvalid,
    ReferenceDataMissing,
    RemoteContextRefused,
    SchemaError,
    UnknownMunicipality,
    UnknownOccupation,
    UnknownOrganisation,
    UnknownProvince,
    UnknownSkill,
    UnsupportedLanguage,
    UnsupportedMediaType,
)
from .jsonld import (
    WORKCONTEXT_CONTEXT_URL,
    ShippedContextLoader,
    expand,
    holds_forbidden_characters,
    parse_bounded,
)
from .reference import (
    REFERENCE_FILES,
    Municipality,
    Occupation,
    Organisation,
    ReferenceData,
    Skill,
    SkillGroup,
    load_reference_data,
)
from .reference_esco import LANGUAGES
from .reference_organisations import SECTORS, Sector
from .workcontext import MAX_SKILLS, Validated, WorkcontextValidator, check_references

from .texts import (
    NO_HIDDEN,
    ONE_LINE,
    has_hidden_character,
    has_visible_character,
    is_one_line,
)

__all__ = [
    "FIELDS", "FIELDS_OF_WORK", "PURPOSES", "Field", "Purpose", "Sensitivity",
    "DAY_RANGE", "FIRST_DAY", "LAST_DAY", "day_in_range",
    "DocumentTooLarge", "InvalidDocument", "ReferenceDataInvalid",
    "ReferenceDataMissing", "RemoteContextRefused", "SchemaError",
    "UnknownMunicipality", "UnknownOccupation", "UnknownOrganisation",
    "UnknownProvince", "UnknownSkill", "UnsupportedLanguage", "UnsupportedMediaType",
    "WORKCONTEXT_CONTEXT_URL", "ShippedContextLoader", "expand",
    "has_visible_character", "is_one_line", "ONE_LINE",
    "has_hidden_character", "NO_HIDDEN",
    "holds_forbidden_characters", "parse_bounded",
    "REFERENCE_FILES", "Municipality", "Occupation", "Organisation", "ReferenceData",
    "Skill", "SkillGroup", "load_reference_data", "LANGUAGES", "SECTORS", "Sector",
    "MAX_SKILLS", "Validated", "WorkcontextValidator", "check_references",
]
