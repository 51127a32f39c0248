"""Public-sector organisations: municipalities plus the rows of `organisaties.csv`.

Codes. An organisation is known by the code `organisaties.csv` gives it: the CBS code
for provinces (`PV20`) and safety regions (`VR01`), the TOOI organisatiecode for
ministries (`mnre1010`), water boards (`ws0155`) and environment services (`so0335`).
Municipalities, which are not in that file, use their CBS code (`GM0363`), as the
Workcontext does for an employer. These codes are unique across all sectors (the
loader checks it). TOOI codes were not used throughout because a safety region's
TOOI code (`so0823`) is in the same `so` series as the environment services and no
other part of the data (`gemeenten.csv`) refers to it.
"""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from schemas.reference_municipalities import Municipality

Sector = Literal[
    "municipality",
    "province",
    "ministry",
    "water_board",
    "safety_region",
    "environment_service",
]
SECTORS: tuple[Sector, ...] = get_args(Sector)

ORGANISATION_COLUMNS = (
    "sector",
    "code",
    "tooi_uri",
    "name",
    "seat_gemeente_code",
    "province_codes",
)
# Ministries have no province; Veiligheidsregio Flevoland has no seat in the source.
ORGANISATION_OPTIONAL = frozenset({"seat_gemeente_code", "province_codes"})

TOOI_PREFIX = "https://identifier.overheid.nl/tooi/id/"
_SECTOR_BY_DUTCH_NAME: Mapping[str, Sector] = {
    "provincie": "province",
    "ministerie": "ministry",
    "waterschap": "water_board",
    "veiligheidsregio": "safety_region",
    "omgevingsdienst": "environment_service",
}


@dataclass(frozen=True, slots=True)
class Organisation:
    """One organisation. For water boards `province_codes` holds only the province
    of the seat: which municipalities a water board covers is not in the data."""

    code: str
    name: str
    sector: Sector
    tooi_uri: str
    province_codes: tuple[str, ...]
    seat_municipality_code: str | None


def organisation_from_municipality(municipality: Municipality) -> Organisation:
    """The municipality as an organisation; its seat is itself."""
    return Organisation(
        code=municipality.code,
        name=f"Gemeente {municipality.name}",
        sector="municipality",
        tooi_uri=f"{TOOI_PREFIX}gemeente/{municipality.code.lower()}",
        province_codes=(municipality.province_code,),
        seat_municipality_code=municipality.code,
    )


def organisation_from_row(
    row: Mapping[str, str], municipalities: Container[str], provinces: Container[str]
) -> Organisation:
    """Build an organisation from an `organisaties.csv` row, checking its references."""
    sector, code, tooi_uri = _sector(row["sector"]), row["code"], row["tooi_uri"]
    # A province's code is what links it to its municipalities in gemeenten.csv.
    if sector == "province" and code not in provinces:
        raise ValueError(f"code must be a province of gemeenten.csv, got {code!r}")
    if not tooi_uri.startswith(TOOI_PREFIX):
        raise ValueError(f"tooi_uri must start with {TOOI_PREFIX}, got {tooi_uri!r}")
    return Organisation(
        code=code,
        name=row["name"],
        sector=sector,
        tooi_uri=tooi_uri,
        province_codes=_province_codes(row["province_codes"], provinces),
        seat_municipality_code=_seat(row["seat_gemeente_code"], municipalities),
    )


def province_of_organisation(organisation: Organisation) -> str | None:
    """A municipality's province, or a province's own code; None for other sectors,
    whose `province_codes` may list several provinces or only a seat province."""
    if organisation.sector == "municipality":
        return organisation.province_codes[0]
    if organisation.sector == "province":
        return organisation.code
    return None


def _sector(dutch_name: str) -> Sector:
    try:
        return _SECTOR_BY_DUTCH_NAME[dutch_name]
    except KeyError:
        known = ", ".join(_SECTOR_BY_DUTCH_NAME)
        raise ValueError(f"sector must be one of {known}, got {dutch_name!r}") from None


def _province_codes(text: str, provinces: Container[str]) -> tuple[str, ...]:
    codes = tuple(code for code in text.split(";") if code)
    for code in codes:
        if code not in provinces:
            raise ValueError(f"province_codes must hold known provinces, got {code!r}")
    return codes


def _seat(code: str, municipalities: Container[str]) -> str | None:
    if not code:
        return None
    if code not in municipalities:
        raise ValueError(f"seat_gemeente_code must be a municipality, got {code!r}")
    return code
