"""Audiences: who a grant discloses to, stored as rules rather than expanded lists.

A rule is evaluated against the reference data at the moment of access, so a municipal
merger or a new organisation is handled by updating reference data, not grants.

    kind                     member                 contains
    organisation             organisations (one)    that organisation
    organisations            organisations (list)   the listed organisations
    employer                 employer               the holder's own employer
    employer_and_neighbours  employer (GMnnnn)      it and the bordering municipalities
    province                 province (PVnn)        its municipalities and the province
    corop                    region (CRnn)          the municipalities of the region
    safety_region            region (VRnn)          its municipalities and the region
    all_municipalities       -                      every municipality
    sector                   sector                 every organisation of the sector
    cross_sector             -                      every public organisation known

The two ``employer`` kinds depend on the holder having an employer; a holder without
one (a freelancer) can use every other kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import InvalidAudience

MAX_LISTED = 400

KINDS = (
    "organisation",
    "organisations",
    "employer",
    "employer_and_neighbours",
    "province",
    "corop",
    "safety_region",
    "all_municipalities",
    "sector",
    "cross_sector",
)
EMPLOYER_KINDS = frozenset({"employer", "employer_and_neighbours"})
LISTED_KINDS = frozenset({"organisation", "organisations"})

# The member that holds each kind's one reference (None: the kind has none).
_REF_MEMBER = {
    "organisation": None, "organisations": None, "employer": "employer",
    "employer_and_neighbours": "employer", "province": "province", "corop": "region",
    "safety_region": "region", "all_municipalities": None, "sector": "sector",
    "cross_sector": None,
}


class Geography(Protocol):
    """What an audience needs to know about organisations (schemas.ReferenceData)."""

    municipalities: Mapping[str, Any]
    organisations: Mapping[str, Any]

    def neighbours(self, code: str) -> frozenset[str]: ...
    def province_of(self, code: str) -> str | None: ...
    def is_municipality(self, code: str) -> bool: ...
    def has_organisation(self, code: str) -> bool: ...


def corop_of(code: str, geo: Geography) -> str | None:
    """The COROP region of a municipality; None for any other organisation."""
    municipality = geo.municipalities.get(code)
    return municipality.corop_code if municipality else None


def safety_region_of(code: str, geo: Geography) -> str | None:
    """A municipality's safety region, or a safety region's own code."""
    municipality = geo.municipalities.get(code)
    if municipality is not None:
        return municipality.safety_region_code
    organisation = geo.organisations.get(code)
    if organisation is not None and organisation.sector == "safety_region":
        return organisation.code
    return None


def sector_of(code: str, geo: Geography) -> str | None:
    organisation = geo.organisations.get(code)
    return organisation.sector if organisation else None


@dataclass(frozen=True, slots=True)
class Audience:
    kind: str
    organisations: tuple[str, ...] = ()
    employer: str | None = None
    province: str | None = None
    region: str | None = None
    sector: str | None = None

    @property
    def ref(self) -> str | None:
        """The one code the rule refers to (employer, province, region or sector)."""
        member = _REF_MEMBER[self.kind]
        return getattr(self, member) if member else None

    @property
    def needs_employer(self) -> bool:
        return self.kind in EMPLOYER_KINDS

    def contains(self, org: str, geo: Geography) -> bool:
        """Whether organisation ``org`` belongs to this audience, by today's data."""
        kind = self.kind
        if kind in LISTED_KINDS:
            return org in self.organisations
        if kind == "employer":
            return org == self.employer
        if kind == "employer_and_neighbours":
            return org == self.employer or org in geo.neighbours(self.employer or "")
        if kind == "province":
            return geo.province_of(org) == self.province
        if kind == "corop":
            return corop_of(org, geo) == self.region
        if kind == "safety_region":
            return safety_region_of(org, geo) == self.region
        if kind == "all_municipalities":
            return geo.is_municipality(org)
        if kind == "sector":
            return sector_of(org, geo) == self.sector
        return kind == "cross_sector" and geo.has_organisation(org)

    def check_known(self, geo: Geography) -> None:
        """Refuse references the reference data lacks."""
        for code in self.organisations:
            if not geo.has_organisation(code):
                raise InvalidAudience(f"organisation {code!r} is not known")
        if self.kind == "employer" and not geo.has_organisation(self.employer or ""):
            raise InvalidAudience(f"employer {self.employer!r} is not known")
        if self.kind == "employer_and_neighbours" and not geo.is_municipality(
                self.employer or ""):
            raise InvalidAudience(f"employer {self.employer!r} is not a municipality")
        province = self.province
        if province is not None and geo.province_of(province) != province:
            raise InvalidAudience(f"province {self.province!r} is not known")
        if self.region is not None and self.region not in _regions(self.kind, geo):
            raise InvalidAudience(f"{self.kind} {self.region!r} is not known")
        if self.sector is not None and self.sector not in _sectors(geo):
            raise InvalidAudience(f"sector {self.sector!r} is not known")

    def within_province(self, province: str, geo: Geography) -> bool:
        """Whether every organisation this rule can ever contain lies in ``province``
        (what an employer's "only within the province" policy asks)."""
        if self.kind in LISTED_KINDS:
            return all(geo.province_of(o) == province for o in self.organisations)
        if self.kind in EMPLOYER_KINDS:
            near = {self.employer or ""}
            if self.kind == "employer_and_neighbours":
                near |= geo.neighbours(self.employer or "")
            return all(geo.province_of(o) == province for o in near)
        if self.kind == "province":
            return self.province == province
        if self.kind in ("corop", "safety_region"):
            return _region_within(self, province, geo)
        return False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind in LISTED_KINDS:
            out["organisations"] = list(self.organisations)
        member = _REF_MEMBER[self.kind]
        if member is not None:
            out[member] = self.ref
        return out

    @classmethod
    def from_json(cls, data: Any) -> Audience:
        if not isinstance(data, dict):
            raise InvalidAudience("audience must be an object with a kind")
        if data.get("kind") not in KINDS:
            given = repr(data.get("kind"))[:40]  # echo a bounded part only
            raise InvalidAudience(f"audience.kind {given} is not known; "
                                  "it must be one of " + ", ".join(KINDS))
        kind = data["kind"]
        extra = set(data) - _expected_keys(kind)
        if extra:
            raise InvalidAudience(
                f"audience of kind {kind} has unexpected {sorted(extra)}")
        return _build(kind, data)


def _regions(kind: str, geo: Geography) -> set[str]:
    attribute = "corop_code" if kind == "corop" else "safety_region_code"
    return {getattr(m, attribute) for m in geo.municipalities.values()}


def _sectors(geo: Geography) -> set[str]:
    return {o.sector for o in geo.organisations.values()}


def _region_within(audience: Audience, province: str, geo: Geography) -> bool:
    attribute = "corop_code" if audience.kind == "corop" else "safety_region_code"
    members = [m for m in geo.municipalities.values()
               if getattr(m, attribute) == audience.region]
    return bool(members) and all(m.province_code == province for m in members)


def _expected_keys(kind: str) -> set[str]:
    if kind in LISTED_KINDS:
        return {"kind", "organisations"}
    member = _REF_MEMBER[kind]
    return {"kind", member} if member else {"kind"}


def _build(kind: str, data: dict) -> Audience:
    if kind in LISTED_KINDS:
        orgs = data.get("organisations")
        if not isinstance(orgs, list) or not all(isinstance(o, str) for o in orgs):
            raise InvalidAudience("audience.organisations must be a list of codes")
        one = kind == "organisation"
        if not 1 <= len(orgs) <= MAX_LISTED or (one and len(orgs) != 1):
            raise InvalidAudience(
                f"audience of kind {kind} names the wrong number of organisations")
        return Audience(kind, organisations=tuple(sorted(set(orgs))))
    member = _REF_MEMBER[kind]
    if member is None:
        return Audience(kind)
    return Audience(kind, **{member: _code(data, member)})


def _code(data: dict, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not 2 <= len(value) <= 40:
        raise InvalidAudience(f"audience.{key} must be a code")
    return value
