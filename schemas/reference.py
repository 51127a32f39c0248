"""Reference data: Dutch municipalities, public-sector organisations and ESCO.

`load_reference_data(directory)` reads the CSV files below from the reference data
directory (normally the setting VG_REFERENCE_DIR) and returns an immutable
`ReferenceData`. Nothing is cached at module level: the caller holds the object.
With ``lazy_esco=True`` the ESCO files (about 36 MB of Python objects for 14,000
skills) are checked to exist at once but read on the first question about a skill
or occupation, so a process that never asks (one that streams binaries, a command
that issues a key) never holds them.

This module is the one boundary where file and CSV errors become `schemas` errors:
a missing file raises `ReferenceDataMissing`, a malformed header or row raises
`ReferenceDataInvalid` with the file and line. The row parsers live in
`reference_municipalities`, `reference_organisations` and `reference_esco`.
"""

from __future__ import annotations

import csv
import io
import threading
from functools import partial
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from schemas.errors import (
    ReferenceDataInvalid,
    ReferenceDataMissing,
    UnknownMunicipality,
    UnknownOccupation,
    UnknownOrganisation,
    UnknownProvince,
    UnknownSkill,
)
from schemas.reference_esco import (
    DUTCH_LABEL_COLUMNS,
    OCCUPATION_COLUMNS,
    SKILL_COLUMNS,
    SKILL_GROUP_COLUMNS,
    SKILL_OPTIONAL,
    Occupation,
    Skill,
    SkillGroup,
    SkillSearch,
    dutch_label_from_row,
    occupation_from_row,
    skill_from_row,
    skill_group_from_row,
    with_dutch_labels,
)
from schemas.reference_municipalities import (
    MUNICIPALITY_COLUMNS,
    NEIGHBOUR_COLUMNS,
    Municipality,
    municipality_from_row,
    neighbour_map,
    neighbour_pair_from_row,
    province_members,
)
from schemas.reference_organisations import (
    ORGANISATION_COLUMNS,
    ORGANISATION_OPTIONAL,
    Organisation,
    organisation_from_municipality,
    organisation_from_row,
    province_of_organisation,
)

MUNICIPALITIES_FILE = "municipalities/gemeenten.csv"
NEIGHBOURS_FILE = "municipalities/neighbours.csv"
ORGANISATIONS_FILE = "organisations/organisaties.csv"
SKILL_GROUPS_FILE = "esco/skill_groups.csv"
SKILLS_FILE = "esco/skills.csv"
DUTCH_SKILL_LABELS_FILE = "esco/skills_nl.csv"
OCCUPATIONS_FILE = "esco/occupations.csv"
REFERENCE_FILES = (
    MUNICIPALITIES_FILE,
    NEIGHBOURS_FILE,
    ORGANISATIONS_FILE,
    SKILL_GROUPS_FILE,
    SKILLS_FILE,
    DUTCH_SKILL_LABELS_FILE,
    OCCUPATIONS_FILE,
)

T = TypeVar("T")
Row = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Esco:
    """The ESCO part of the reference data: skills, skill groups, occupations."""

    skills: Mapping[str, Skill]
    skill_groups: Mapping[str, SkillGroup]
    occupations: Mapping[str, Occupation]
    public_admin: tuple[Occupation, ...]
    skill_search: SkillSearch


class EscoOnFirstUse:
    """Reads the ESCO files on the first call of ``get`` (once, whichever thread
    asks first); a reading error is raised to that caller and to every later one."""

    def __init__(self, load: Callable[[], Esco]) -> None:
        self._load = load
        self._esco: Esco | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._esco is not None

    def get(self) -> Esco:
        if self._esco is None:
            with self._lock:
                if self._esco is None:
                    self._esco = self._load()
        return self._esco


@dataclass(frozen=True, slots=True, repr=False)
class ReferenceData:
    """All reference data, indexed for lookup. Build it with `load_reference_data`."""

    municipalities: Mapping[str, Municipality]
    organisations: Mapping[str, Organisation]
    neighbour_map: Mapping[str, frozenset[str]]
    province_members: Mapping[str, frozenset[str]]
    esco: EscoOnFirstUse
    tooi_uris: frozenset[str]

    @property
    def skills(self) -> Mapping[str, Skill]:
        return self.esco.get().skills

    @property
    def skill_groups(self) -> Mapping[str, SkillGroup]:
        return self.esco.get().skill_groups

    @property
    def occupations(self) -> Mapping[str, Occupation]:
        return self.esco.get().occupations

    @property
    def public_admin(self) -> tuple[Occupation, ...]:
        return self.esco.get().public_admin

    @property
    def skill_search(self) -> SkillSearch:
        return self.esco.get().skill_search

    def __repr__(self) -> str:
        # The default repr would print 14,000 skills.
        return (
            f"<ReferenceData {len(self.municipalities)} municipalities, "
            f"{len(self.organisations)} organisations, {len(self.skills)} skills, "
            f"{len(self.occupations)} occupations>"
        )

    def municipality(self, code: str) -> Municipality:
        try:
            return self.municipalities[code]
        except KeyError:
            raise UnknownMunicipality(code) from None

    def organisation(self, code: str) -> Organisation:
        try:
            return self.organisations[code]
        except KeyError:
            raise UnknownOrganisation(code) from None

    def has_organisation(self, code: str) -> bool:
        return code in self.organisations

    def is_municipality(self, code: str) -> bool:
        return code in self.municipalities

    def neighbours(self, code: str) -> frozenset[str]:
        """Codes of the municipalities that share a border with this one.

        Empty for the Wadden islands, for other organisations and for unknown
        codes: audience and circle checks ask this of any organisation, and an
        empty answer grants nothing (fail closed)."""
        return self.neighbour_map.get(code, frozenset())

    def municipalities_in_province(self, province_code: str) -> frozenset[str]:
        try:
            return self.province_members[province_code]
        except KeyError:
            raise UnknownProvince(province_code) from None

    def province_of(self, org_code: str) -> str | None:
        """A municipality's province or a province's own code; None for other
        sectors and for unknown codes, so that `province_of(x) == x` tells
        whether x is a known province."""
        organisation = self.organisations.get(org_code)
        return province_of_organisation(organisation) if organisation else None

    def skill(self, uri: str) -> Skill:
        try:
            return self.skills[uri]
        except KeyError:
            raise UnknownSkill(uri) from None

    def has_tooi_uri(self, uri: str) -> bool:
        """Whether ``uri`` is the TOOI identifier of a known organisation."""
        return uri in self.tooi_uris

    def has_skill(self, uri: str) -> bool:
        return uri in self.skills

    def search_skills(
        self, text: str, lang: str = "nl", limit: int = 20
    ) -> tuple[Skill, ...]:
        """Skills whose Dutch or English label contains `text`, ignoring case;
        prefix matches first, labels in `lang` before the other language."""
        return self.skill_search.search(text, lang, limit)

    def occupation(self, uri: str) -> Occupation:
        try:
            return self.occupations[uri]
        except KeyError:
            raise UnknownOccupation(uri) from None

    def has_occupation(self, uri: str) -> bool:
        return uri in self.occupations

    def public_admin_occupations(self) -> tuple[Occupation, ...]:
        """Occupations typical of government work (by ISCO group), by Dutch label."""
        return self.public_admin


def load_reference_data(directory: Path, lazy_esco: bool = False) -> ReferenceData:
    """Read and check every reference file under `directory`; with `lazy_esco`, the
    ESCO files only when a skill or occupation is first asked for."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ReferenceDataMissing(directory, "not a directory")
    municipalities = _load_municipalities(directory)
    neighbours = _load_neighbours(directory, municipalities)
    organisations = _load_organisations(directory, municipalities)
    esco = EscoOnFirstUse(partial(_load_esco, directory))
    if lazy_esco:
        for name in (SKILL_GROUPS_FILE, SKILLS_FILE, DUTCH_SKILL_LABELS_FILE,
                     OCCUPATIONS_FILE):
            if not (directory / name).is_file():
                raise ReferenceDataMissing(directory / name)
    else:
        esco.get()
    return ReferenceData(
        municipalities=municipalities,
        organisations=organisations,
        neighbour_map=neighbours,
        province_members=province_members(municipalities.values()),
        esco=esco,
        tooi_uris=frozenset(o.tooi_uri for o in organisations.values()),
    )


def _load_esco(directory: Path) -> Esco:
    skills, groups = _load_skills(directory)
    occupations, public_admin = _load_occupations(directory)
    return Esco(skills=skills, skill_groups=groups, occupations=occupations,
                public_admin=public_admin, skill_search=SkillSearch.of(skills.values()))


def _load_municipalities(directory: Path) -> Mapping[str, Municipality]:
    path = directory / MUNICIPALITIES_FILE
    rows = _read(path, MUNICIPALITY_COLUMNS, frozenset(), municipality_from_row)
    return _unique(path, rows, lambda m: m.code)


def _load_neighbours(
    directory: Path, municipalities: Mapping[str, Municipality]
) -> Mapping[str, frozenset[str]]:
    parse = partial(neighbour_pair_from_row, known=municipalities)
    pairs = _read(directory / NEIGHBOURS_FILE, NEIGHBOUR_COLUMNS, frozenset(), parse)
    return neighbour_map(municipalities, (pair for _, pair in pairs))


def _load_organisations(
    directory: Path, municipalities: Mapping[str, Municipality]
) -> Mapping[str, Organisation]:
    path = directory / ORGANISATIONS_FILE
    provinces = {m.province_code for m in municipalities.values()}
    parse = partial(
        organisation_from_row, municipalities=municipalities, provinces=provinces
    )
    rows = _read(path, ORGANISATION_COLUMNS, ORGANISATION_OPTIONAL, parse)
    # Municipalities go first, so a file row that reuses a GM code is the duplicate
    # and the error points at its line.
    own = [(0, organisation_from_municipality(m)) for m in municipalities.values()]
    return _unique(path, [*own, *rows], lambda o: o.code)


def _load_skills(
    directory: Path,
) -> tuple[Mapping[str, Skill], Mapping[str, SkillGroup]]:
    groups_path = directory / SKILL_GROUPS_FILE
    groups = _read(groups_path, SKILL_GROUP_COLUMNS, frozenset(), skill_group_from_row)
    group_map = _unique(groups_path, groups, lambda g: g.uri)
    skills_path = directory / SKILLS_FILE
    parse_skill = partial(skill_from_row, groups=group_map)
    skills = _read(skills_path, SKILL_COLUMNS, SKILL_OPTIONAL, parse_skill)
    skill_map = _unique(skills_path, skills, lambda s: s.uri)
    labels_path = directory / DUTCH_SKILL_LABELS_FILE
    parse_label = partial(dutch_label_from_row, skills=skill_map)
    labels = _read(labels_path, DUTCH_LABEL_COLUMNS, frozenset(), parse_label)
    label_map = _unique(labels_path, labels, lambda label: label[0])
    relabelled = with_dutch_labels(skill_map, label_map.values())
    return MappingProxyType(relabelled), group_map


def _load_occupations(
    directory: Path,
) -> tuple[Mapping[str, Occupation], tuple[Occupation, ...]]:
    path = directory / OCCUPATIONS_FILE
    rows = _read(path, OCCUPATION_COLUMNS, frozenset(), occupation_from_row)
    occupations = _unique(path, [(line, o) for line, (o, _) in rows], lambda o: o.uri)
    public_admin = sorted(
        (o for _, (o, is_public_admin) in rows if is_public_admin),
        key=lambda o: (o.label_nl.casefold(), o.uri),
    )
    return occupations, tuple(public_admin)


def _read(
    path: Path,
    columns: tuple[str, ...],
    optional: Collection[str],
    parse: Callable[[Row], T],
) -> list[tuple[int, T]]:
    """Parse every row of one CSV file into (line number, value)."""
    # strict: the files are RFC 4180, so a stray quote is damage, not data.
    reader = csv.DictReader(io.StringIO(_text(path), newline=""), strict=True)
    try:
        _check_header(path, reader.fieldnames, columns)
        check = partial(_parse_row, path, columns, optional, parse)
        return [(reader.line_num, check(reader.line_num, row)) for row in reader]
    except csv.Error as exc:
        # DictReader updates its own line_num only after a row parsed; the inner
        # reader already counts the line that failed.
        raise ReferenceDataInvalid(path, reader.reader.line_num, str(exc)) from exc


def _text(path: Path) -> str:
    # Decoding the whole file at once (the largest is 5 MB) tells the exact line of
    # a bad byte, which decoding while reading lines would not.
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReferenceDataMissing(path, exc.strerror or str(exc)) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ReferenceDataInvalid(path, line, "text must be UTF-8") from exc


def _check_header(
    path: Path, fieldnames: Iterable[str] | None, columns: tuple[str, ...]
) -> None:
    present = set(fieldnames or ())
    missing = [column for column in columns if column not in present]
    if missing:
        reason = f"header lacks column(s) {', '.join(missing)}"
        raise ReferenceDataInvalid(path, 1, reason)


def _parse_row(
    path: Path,
    columns: tuple[str, ...],
    optional: Collection[str],
    parse: Callable[[Row], T],
    line: int,
    row: dict[str | None, str | None],
) -> T:
    # DictReader files surplus fields under the key None and fills absent ones with
    # None: either way the row does not have as many fields as the header.
    if None in row or None in row.values():
        reason = "row has a different number of fields than the header"
        raise ReferenceDataInvalid(path, line, reason)
    empty = [column for column in columns if column not in optional and not row[column]]
    if empty:
        raise ReferenceDataInvalid(path, line, f"{empty[0]} must not be empty")
    try:
        return parse(row)
    except (ValueError, KeyError) as exc:
        raise ReferenceDataInvalid(path, line, str(exc)) from exc


def _unique(
    path: Path, rows: Iterable[tuple[int, T]], key: Callable[[T], str]
) -> Mapping[str, T]:
    """Index values by key; a key seen twice is an error at its second line."""
    index: dict[str, T] = {}
    for line, value in rows:
        if key(value) in index:
            raise ReferenceDataInvalid(path, line, f"{key(value)} occurs twice")
        index[key(value)] = value
    return MappingProxyType(index)
