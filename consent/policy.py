"""Employer policies: which audiences an organisation lets its employees grant.

A policy is a rule over audiences, like the audiences themselves: the kinds it
allows, and optionally that every organisation an audience can contain lies in the
employer's own province. ``refusal`` says in words why an audience is not allowed, so
the holder learns the reason (GDPR art. 12(1): clear and plain language).

A policy never names a holder and never says which grants exist: it is evaluated
where the grant is, so the employer learns nothing about its employees' grants to
other organisations (EDPB Guidelines 05/2020 on consent, section 3.1.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .audience import KINDS, Audience, Geography
from .errors import AudienceNeedsEmployer, AudienceRefusedByEmployer, InvalidAudience
from .errors import InvalidPolicy


@dataclass(frozen=True, slots=True)
class EmployerPolicy:
    organisation: str
    allowed_kinds: frozenset[str]
    within_province: bool = False

    def refusal(self, audience: Audience, geo: Geography) -> str | None:
        """Why ``audience`` is not allowed, or None when it is."""
        if audience.kind not in self.allowed_kinds:
            allowed = ", ".join(k for k in KINDS if k in self.allowed_kinds) or "none"
            return (f"audiences of kind {audience.kind} are not allowed; "
                    f"allowed kinds: {allowed}")
        province = geo.province_of(self.organisation)
        if self.within_province and (
                province is None or not audience.within_province(province, geo)):
            return (f"only audiences within province {province} are allowed, and this "
                    "audience can contain organisations outside it")
        return None

    def check(self, audience: Audience, geo: Geography) -> None:
        reason = self.refusal(audience, geo)
        if reason is not None:
            raise AudienceRefusedByEmployer(audience.kind, self.organisation, reason)

    def to_json(self) -> dict[str, Any]:
        return {"organisation": self.organisation,
                "allowedKinds": [k for k in KINDS if k in self.allowed_kinds],
                "withinProvince": self.within_province}

    @classmethod
    def from_json(cls, organisation: str, data: Any, geo: Geography) -> EmployerPolicy:
        if not isinstance(data, dict) or set(data) - {"allowedKinds", "withinProvince"}:
            raise InvalidPolicy("a policy has allowedKinds and withinProvince only")
        kinds = data.get("allowedKinds")
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            raise InvalidPolicy("allowedKinds must be a list of audience kinds")
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown:
            raise InvalidPolicy(f"allowedKinds names unknown kinds {unknown}")
        within = data.get("withinProvince", False)
        if not isinstance(within, bool):
            raise InvalidPolicy("withinProvince must be true or false")
        if within and geo.province_of(organisation) is None:
            raise InvalidPolicy(
                f"withinProvince needs an employer in one province; {organisation} "
                "is not")
        return cls(organisation, frozenset(kinds), within)


def check_audience_for_holder(audience: Audience, employer: str | None) -> None:
    """An employer-dependent audience must name the holder's own employer; a holder
    without an employer (a freelancer) can use every other kind."""
    if not audience.needs_employer:
        return
    if employer is None:
        raise AudienceNeedsEmployer(audience.kind)
    if audience.employer != employer:
        raise InvalidAudience(
            f"audience.employer must be the holder's own employer {employer}")
