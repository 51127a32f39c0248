"""The field catalogue and the purposes a holder can consent to.

A *field* is one consentable part of the Workcontext, named by a stable key and located
by a property path of compacted JSON-LD terms (see ``context/workcontext-v1.jsonld``).
A field whose path lies inside another field's path (``functionLevel.salaryScale``
inside ``functionLevel``) is separate: granting the outer field does not grant it.

Sensitivity follows the data-minimisation duty of GDPR art. 5(1)(c): contact details
and the salary scale (it reveals pay) are more sensitive than skills, and each field
names the purposes that may ever need it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType


class Sensitivity(str, Enum):
    BASIC = "basic"
    IDENTIFYING = "identifying"
    SENSITIVE = "sensitive"
    CONTACT = "contact"


@dataclass(frozen=True, slots=True)
class Purpose:
    """A purpose of processing: a W3C DPV purpose, refined where DPV has no exact term."""

    key: str
    iri: str
    dpv_broader: str
    label_nl: str
    label_en: str


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    path: tuple[str, ...]
    label_nl: str
    label_en: str
    sensitivity: Sensitivity
    purposes: frozenset[str]

    @property
    def dotted_path(self) -> str:
        return ".".join(self.path)


VG = "https://w3id.org/virtuele-gemeente/vocab#"
DPV = "https://w3id.org/dpv#"

_PURPOSES = (
    Purpose("matching", VG + "AssignmentMatching", DPV + "PersonnelManagement",
            "matchen op opdrachten", "matching for assignments"),
    Purpose("contact", VG + "ContactAfterMatch", DPV + "CommunicationManagement",
            "contact na een wederzijdse match", "contact after a mutual match"),
    Purpose("teamwork", VG + "TeamWork", DPV + "PersonnelManagement",
            "samenwerken in een team", "team work"),
    Purpose("knowledge_sharing", VG + "KnowledgeSharing", DPV + "CommunicationManagement",
            "kennis delen met collega's", "knowledge sharing between colleagues"),
)
PURPOSES = MappingProxyType({p.key: p for p in _PURPOSES})

_ALL = frozenset(PURPOSES)
_WORK = frozenset({"matching", "teamwork"})
_REACH = frozenset({"contact", "teamwork"})

_FIELDS = (
    Field("name", ("name",), "Naam", "Name", Sensitivity.IDENTIFYING, _ALL),
    Field("employer", ("worksFor",), "Werkgever", "Employer", Sensitivity.BASIC, _ALL),
    Field("occupation", ("hasOccupation",), "Beroep", "Occupation",
          Sensitivity.BASIC, _ALL),
    Field("skills", ("skills",), "Vaardigheden", "Skills", Sensitivity.BASIC, _ALL),
    Field("level", ("functionLevel",), "Functieniveau", "Function level",
          Sensitivity.BASIC, _ALL),
    Field("salary_scale", ("functionLevel", "salaryScale"), "Salarisschaal",
          "Salary scale", Sensitivity.SENSITIVE, _WORK),
    Field("field_of_work", ("fieldOfWork",), "Vakgebied", "Field of work",
          Sensitivity.BASIC, _ALL),
    Field("hours_per_week", ("availability", "hoursPerWeek"), "Uren per week",
          "Hours per week", Sensitivity.BASIC, _ALL),
    Field("available_period", ("availability", "period"), "Beschikbare periode",
          "Available period", Sensitivity.BASIC, _ALL),
    Field("intro_video", ("introVideo",), "Introductievideo", "Intro video",
          Sensitivity.SENSITIVE, frozenset({"matching", "teamwork", "knowledge_sharing"})),
    Field("email", ("email",), "E-mailadres", "Email address", Sensitivity.CONTACT,
          _REACH),
    Field("telephone", ("telephone",), "Telefoonnummer", "Telephone number",
          Sensitivity.CONTACT, _REACH),
    # The holder's own summary of the ratings their pod received (registry/ratings.py
    # delivers them sealed): organisations see ratings only this way, under a grant.
    # Only the holder signs it, so the label says whose statement it is.
    Field("rating_summary", ("ratingSummary",),
          "Beoordelingen (samenvatting, verklaring van de houder)",
          "Rating summary (stated by the holder)", Sensitivity.SENSITIVE, _WORK),
)
FIELDS = MappingProxyType({f.key: f for f in _FIELDS})

# Keys inside a projected object that carry structure, not personal data.
STRUCTURAL_KEYS = frozenset({"@context", "id", "type"})

# HR21 function families (reeksen) used as the field of work.
FIELDS_OF_WORK = (
    "politiek", "management", "beleid", "realisatie", "beheer",
    "dienstverlening", "ondersteuning",
)
