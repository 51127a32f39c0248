"""Audiences: who a grant discloses to, stored as rules rather than expanded lists.

A rule is evaluated against the reference data at the moment of access, so a municipal
merger or a new organisation is handled by updating reference data, not grants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from .errors import InvalidAudience

MAX_LISTED = 400

KINDS = (
    "organisation",
    "organisations",
    "employer_and_neighbours",
    "province",
    "all_municipalities",
)


class Geography(Protocol):
    """What an audience needs to know about organisations (schemas.ReferenceData)."""

    def neighbours(self, code: str) -> frozenset[str]: ...
    def province_of(self, code: str) -> str | None: ...
    def is_municipality(self, code: str) -> bool: ...
    def has_organisation(self, code: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class Audience:
    kind: str
    organisations: tuple[str, ...] = ()
    employer: str | None = None
    province: str | None = None

    def contains(self, org: str, geo: Geography) -> bool:
        """Whether organisation ``org`` belongs to this audience."""
        if self.kind in ("organisation", "organisations"):
            return org in self.organisations
        if self.kind == "employer_and_neighbours":
            return org == self.employer or org in geo.neighbours(self.employer or "")
        if self.kind == "province":
            return geo.province_of(org) == self.province
        return self.kind == "all_municipalities" and geo.is_municipality(org)

    def check_known(self, geo: Geography) -> None:
        """Refuse references to organisations or provinces the reference data lacks."""
        for code in self.organisations:
            if not geo.has_organisation(code):
                raise InvalidAudience(f"organisation {code!r} is not known")
        if self.employer is not None and not geo.is_municipality(self.employer):
            raise InvalidAudience(f"employer {self.employer!r} is not a municipality")
        if self.province is not None and geo.province_of(self.province) != self.province:
            raise InvalidAudience(f"province {self.province!r} is not known")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind in ("organisation", "organisations"):
            out["organisations"] = list(self.organisations)
        if self.employer is not None:
            out["employer"] = self.employer
        if self.province is not None:
            out["province"] = self.province
        return out

    @classmethod
    def from_json(cls, data: Any) -> Audience:
        if not isinstance(data, dict) or data.get("kind") not in KINDS:
            raise InvalidAudience("audience.kind must be one of " + ", ".join(KINDS))
        kind = data["kind"]
        expected = _expected_keys(kind)
        extra = set(data) - expected
        if extra:
            raise InvalidAudience(f"audience of kind {kind} has unexpected {sorted(extra)}")
        return _build(kind, data)


def _expected_keys(kind: str) -> set[str]:
    return {
        "organisation": {"kind", "organisations"},
        "organisations": {"kind", "organisations"},
        "employer_and_neighbours": {"kind", "employer"},
        "province": {"kind", "province"},
        "all_municipalities": {"kind"},
    }[kind]


def _build(kind: str, data: dict) -> Audience:
    if kind in ("organisation", "organisations"):
        orgs = data.get("organisations")
        if not isinstance(orgs, list) or not all(isinstance(o, str) for o in orgs):
            raise InvalidAudience("audience.organisations must be a list of codes")
        if not 1 <= len(orgs) <= MAX_LISTED or (kind == "organisation" and len(orgs) != 1):
            raise InvalidAudience(f"audience of kind {kind} names the wrong number of organisations")
        return Audience(kind, organisations=tuple(sorted(set(orgs))))
    if kind == "employer_and_neighbours":
        return Audience(kind, employer=_code(data, "employer"))
    if kind == "province":
        return Audience(kind, province=_code(data, "province"))
    return Audience(kind)


def _code(data: dict, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not 2 <= len(value) <= 40:
        raise InvalidAudience(f"audience.{key} must be an organisation code")
    return value
