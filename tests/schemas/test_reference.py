"""The reference data loaders read the real shared data and reject broken copies."""

from __future__ import annotations

import csv
import dataclasses
import os
import shutil
from pathlib import Path

import pytest

from schemas.errors import (
    ReferenceDataInvalid,
    ReferenceDataMissing,
    SchemaError,
    UnknownMunicipality,
    UnknownOccupation,
    UnknownOrganisation,
    UnknownProvince,
    UnknownSkill,
    UnsupportedLanguage,
)
from schemas.reference import REFERENCE_FILES, ReferenceData, load_reference_data

# tests/schemas/test_reference.py -> parents[3] is the folder holding the checkout
# and shared/.
DATA = Path(
    os.environ.get("VG_REFERENCE_DIR")
    or Path(__file__).resolve().parents[3] / "shared" / "data"
)
SKILL = "http://data.europa.eu/esco/skill/"
COPE_WITH_STRESS = SKILL + "7a147904-22b3-498a-b4d9-7bceeb86b45d"
ISSUE_LICENCES = SKILL + "404b3fcd-306a-4d18-b5db-d90c517ff72f"
TOOI = "https://identifier.overheid.nl/tooi/id/"


def csv_rows(relative: str) -> list[dict[str, str]]:
    with (DATA / relative).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def reference() -> ReferenceData:
    return load_reference_data(DATA)


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of every CSV file (the shared files are read-only)."""
    for source in DATA.rglob("*.csv"):
        target = tmp_path / source.relative_to(DATA)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return tmp_path


def replace_line(path: Path, line: int, text: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[line - 1] = text
    path.write_text("\n".join(lines), encoding="utf-8")


# Municipalities


def test_there_are_342_municipalities(reference: ReferenceData) -> None:
    assert len(reference.municipalities) == 342
    assert all(reference.is_municipality(code) for code in reference.municipalities)


def test_a_municipality_carries_its_province_and_regions(
    reference: ReferenceData,
) -> None:
    utrecht = reference.municipality("GM0344")
    assert (utrecht.name, utrecht.province_code, utrecht.province_name) == (
        "Utrecht",
        "PV26",
        "Utrecht",
    )
    assert (utrecht.corop_code, utrecht.safety_region_code) == ("CR17", "VR09")
    assert utrecht.lat == pytest.approx(52.09, abs=0.01)
    assert utrecht.lon == pytest.approx(5.08, abs=0.01)


def test_an_unknown_municipality_code_is_a_caller_error(
    reference: ReferenceData,
) -> None:
    with pytest.raises(UnknownMunicipality) as caught:
        reference.municipality("PV26")
    assert caught.value.status == 400
    assert caught.value.code == "unknown-municipality"
    assert caught.value.organisation_code == "PV26"
    assert not reference.is_municipality("PV26")


def test_utrecht_borders_de_bilt_which_the_file_lists_the_other_way_round(
    reference: ReferenceData,
) -> None:
    # neighbours.csv has "GM0310,GM0344" (De Bilt first) and "GM0344,GM1904".
    assert {"GM0310", "GM1904"} <= reference.neighbours("GM0344")
    assert len(reference.neighbours("GM0344")) == 9


def test_neighbours_are_symmetric(reference: ReferenceData) -> None:
    for code in reference.municipalities:
        for other in reference.neighbours(code):
            assert code in reference.neighbours(other), (code, other)


def test_every_pair_in_the_file_is_one_neighbour_relation(
    reference: ReferenceData,
) -> None:
    relations = sum(len(reference.neighbours(c)) for c in reference.municipalities)
    assert relations == 2 * len(csv_rows("municipalities/neighbours.csv"))


def test_every_neighbour_is_a_municipality_other_than_itself(
    reference: ReferenceData,
) -> None:
    for code in reference.municipalities:
        neighbours = reference.neighbours(code)
        assert all(reference.is_municipality(n) for n in neighbours)
        assert code not in neighbours


def test_texel_is_an_island_with_no_neighbours(reference: ReferenceData) -> None:
    assert reference.neighbours("GM0448") == frozenset()


def test_organisations_other_than_municipalities_have_no_neighbours(
    reference: ReferenceData,
) -> None:
    assert reference.neighbours("PV26") == frozenset()
    assert reference.neighbours("mnre1034") == frozenset()
    assert reference.neighbours("GM9999") == frozenset()


def test_the_12_provinces_partition_the_municipalities(
    reference: ReferenceData,
) -> None:
    provinces = [o for o in reference.organisations.values() if o.sector == "province"]
    assert len(provinces) == 12
    members = [reference.municipalities_in_province(p.code) for p in provinces]
    assert sum(len(m) for m in members) == 342
    assert frozenset().union(*members) == set(reference.municipalities)
    assert len(reference.municipalities_in_province("PV26")) == 26


def test_a_municipality_is_not_a_province(reference: ReferenceData) -> None:
    with pytest.raises(UnknownProvince):
        reference.municipalities_in_province("GM0344")


# Organisations


def test_organisations_are_the_municipalities_plus_every_sector_file(
    reference: ReferenceData,
) -> None:
    sector_files = {
        "ministry": "organisations/ministeries.csv",
        "province": "organisations/provincies.csv",
        "water_board": "organisations/waterschappen.csv",
        "safety_region": "organisations/veiligheidsregios.csv",
        "environment_service": "organisations/omgevingsdiensten.csv",
        "municipality": "municipalities/gemeenten.csv",
    }
    for sector, relative in sector_files.items():
        found = [o for o in reference.organisations.values() if o.sector == sector]
        assert len(found) == len(csv_rows(relative)), sector
    assert len(reference.organisations) == sum(
        len(csv_rows(relative)) for relative in sector_files.values()
    )


def test_a_municipality_is_an_organisation_with_a_tooi_uri(
    reference: ReferenceData,
) -> None:
    amsterdam = reference.organisation("GM0363")
    assert amsterdam.sector == "municipality"
    assert amsterdam.tooi_uri == TOOI + "gemeente/gm0363"
    assert amsterdam.province_codes == ("PV27",)
    assert amsterdam.seat_municipality_code == "GM0363"


def test_other_organisations_keep_the_codes_of_the_csv(
    reference: ReferenceData,
) -> None:
    assert reference.organisation("mnre1010").sector == "ministry"
    assert reference.organisation("mnre1010").province_codes == ()
    assert reference.organisation("PV20").name == "Provincie Groningen"
    assert reference.organisation("VR25").seat_municipality_code is None
    assert reference.organisation("so0696").province_codes == ("PV24", "PV27")


def test_an_unknown_organisation_code_is_a_caller_error(
    reference: ReferenceData,
) -> None:
    with pytest.raises(UnknownOrganisation) as caught:
        reference.organisation("gm0363")
    assert (caught.value.status, caught.value.code) == (400, "unknown-organisation")
    assert caught.value.organisation_code == "gm0363"
    assert not reference.has_organisation("gm0363")
    assert reference.has_organisation("GM0363")


def test_province_of_names_a_municipalitys_or_a_provinces_own_province(
    reference: ReferenceData,
) -> None:
    assert reference.province_of("GM0344") == "PV26"
    assert reference.province_of("PV21") == "PV21"
    assert reference.province_of("ws0155") is None
    assert reference.province_of("PV99") is None


# ESCO


def test_a_skill_has_its_current_dutch_and_its_english_label(
    reference: ReferenceData,
) -> None:
    # skills.csv still has the v1.0.8 label "druk aankunnen"; skills_nl.csv wins.
    skill = reference.skill(COPE_WITH_STRESS)
    assert (skill.label_nl, skill.label_en) == ("omgaan met stress", "cope with stress")
    assert skill.group_uri in reference.skill_groups
    assert skill.broader


def test_the_one_skill_without_a_dutch_label_has_none(
    reference: ReferenceData,
) -> None:
    skill = reference.skill(ISSUE_LICENCES)
    assert skill.label_nl is None
    assert skill.label_en == "issue licences"


def test_an_unknown_skill_is_a_caller_error(reference: ReferenceData) -> None:
    assert reference.has_skill(COPE_WITH_STRESS)
    assert not reference.has_skill(SKILL + "nope")
    with pytest.raises(UnknownSkill) as caught:
        reference.skill(SKILL + "nope")
    assert (caught.value.status, caught.value.code) == (400, "unknown-skill")
    assert caught.value.uri == SKILL + "nope"


def test_search_finds_a_dutch_label_by_a_substring_ignoring_case(
    reference: ReferenceData,
) -> None:
    hits = reference.search_skills("MET STRESS")
    assert COPE_WITH_STRESS in [skill.uri for skill in hits]


def test_search_finds_an_english_label_too(reference: ReferenceData) -> None:
    hits = reference.search_skills("cope with stress", lang="en")
    assert hits[0].uri == COPE_WITH_STRESS


def test_search_puts_prefix_matches_first(reference: ReferenceData) -> None:
    hits = reference.search_skills("beleid", limit=1000)
    starts = [(s.label_nl or "").casefold().startswith("beleid") for s in hits]
    assert starts[0]
    assert starts == sorted(starts, reverse=True)
    assert not all(starts)


def test_search_returns_at_most_limit_skills(reference: ReferenceData) -> None:
    assert len(reference.search_skills("beleid", limit=5)) == 5


def test_search_for_nothing_finds_nothing(reference: ReferenceData) -> None:
    assert reference.search_skills("  ") == ()
    assert reference.search_skills("stress", limit=0) == ()


def test_search_in_an_unsupported_language_is_a_caller_error(
    reference: ReferenceData,
) -> None:
    with pytest.raises(UnsupportedLanguage):
        reference.search_skills("stress", lang="de")


def test_public_admin_occupations_are_the_flagged_subset(
    reference: ReferenceData,
) -> None:
    expected = {row["uri"] for row in csv_rows("esco/occupations_public_admin.csv")}
    occupations = reference.public_admin_occupations()
    assert {o.uri for o in occupations} == expected
    assert len(reference.occupations) == len(csv_rows("esco/occupations.csv"))
    some = occupations[0]
    assert reference.occupation(some.uri) == some
    assert len(some.isco_group) == 4


def test_an_unknown_occupation_is_a_caller_error(reference: ReferenceData) -> None:
    with pytest.raises(UnknownOccupation):
        reference.occupation(COPE_WITH_STRESS)


# Immutability


def test_reference_data_cannot_be_changed(reference: ReferenceData) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        reference.municipalities = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        reference.organisations["GM0363"] = None  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        reference.skill(COPE_WITH_STRESS).label_nl = "x"  # type: ignore[misc]


# Broken data


@pytest.mark.parametrize("relative", REFERENCE_FILES)
def test_a_missing_file_is_named_with_the_setting_to_fix(
    data_copy: Path, relative: str
) -> None:
    (data_copy / relative).unlink()
    with pytest.raises(ReferenceDataMissing) as caught:
        load_reference_data(data_copy)
    assert caught.value.path == data_copy / relative
    assert relative in str(caught.value)
    assert "VG_REFERENCE_DIR" in str(caught.value)
    assert (caught.value.status, caught.value.code) == (500, "reference-data-missing")
    assert isinstance(caught.value.__cause__, OSError)


def test_a_missing_directory_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataMissing) as caught:
        load_reference_data(tmp_path / "nowhere")
    assert caught.value.path == tmp_path / "nowhere"


@pytest.mark.parametrize(
    ("relative", "line", "text", "reason"),
    [
        (
            "municipalities/gemeenten.csv",
            3,
            "GM0034,Almere,PV24,Flevoland,CR40,Flevoland,VR25,Flevoland,north,5.2,"
            "52.3,5.2,3",
            "centroid_lat must be a number",
        ),
        ("municipalities/gemeenten.csv", 2, "GM0014,Groningen,PV20", "fields"),
        ("municipalities/neighbours.csv", 5, "GM0014,GM9999,1.0", "GM9999"),
        ("municipalities/neighbours.csv", 1, "code_a,code,shared_border_km", "code_b"),
        (
            "organisations/organisaties.csv",
            2,
            "gilde,mnre1010,https://identifier.overheid.nl/tooi/id/ministerie/mnre1010,"
            "Ministerie van Algemene Zaken,AZ,GM0518,,,",
            "sector must be one of",
        ),
        ("esco/skills_nl.csv", 4, f"{SKILL}nope,iets,,", "skills.csv"),
        ("esco/occupations.csv", 2, 'x,2411.1,"24"11,a,b,,,1', "expected after"),
    ],
)
def test_a_malformed_row_is_reported_with_file_and_line(
    data_copy: Path, relative: str, line: int, text: str, reason: str
) -> None:
    replace_line(data_copy / relative, line, text)
    with pytest.raises(ReferenceDataInvalid) as caught:
        load_reference_data(data_copy)
    assert (caught.value.path, caught.value.line) == (data_copy / relative, line)
    assert reason in str(caught.value)
    assert (caught.value.status, caught.value.code) == (500, "reference-data-invalid")


def test_a_byte_that_is_not_utf8_is_reported_at_its_line(data_copy: Path) -> None:
    path = data_copy / "esco" / "skills.csv"
    lines = path.read_bytes().split(b"\n")
    lines[99] = lines[99].replace(b"http", b"ht\xfftp", 1)
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(ReferenceDataInvalid) as caught:
        load_reference_data(data_copy)
    assert (caught.value.path, caught.value.line) == (path, 100)
    assert isinstance(caught.value.__cause__, UnicodeDecodeError)


def test_a_duplicated_code_is_reported_at_its_second_line(data_copy: Path) -> None:
    path = data_copy / "municipalities" / "gemeenten.csv"
    first_row = path.read_text(encoding="utf-8").split("\n")[1]
    replace_line(path, 3, first_row)
    with pytest.raises(ReferenceDataInvalid) as caught:
        load_reference_data(data_copy)
    assert caught.value.line == 3
    assert "GM0014 occurs twice" in str(caught.value)


def test_every_error_is_a_schema_error() -> None:
    for error in (ReferenceDataMissing, ReferenceDataInvalid, UnknownOrganisation):
        assert issubclass(error, SchemaError)
    assert issubclass(UnknownMunicipality, UnknownOrganisation)
    assert (SchemaError.status, SchemaError.code) == (500, "schema-error")


# ESCO on first use


def test_with_lazy_esco_no_esco_file_is_read_until_a_skill_is_asked(
    data_copy: Path,
) -> None:
    replace_line(data_copy / "esco/skills.csv", 2, "not,a,skill,row")

    lazy = load_reference_data(data_copy, lazy_esco=True)

    assert lazy.is_municipality("GM0344")
    with pytest.raises(ReferenceDataInvalid) as caught:
        lazy.has_skill(COPE_WITH_STRESS)
    assert caught.value.path == data_copy / "esco/skills.csv"


def test_with_lazy_esco_a_missing_esco_file_is_reported_at_once(data_copy: Path) -> None:
    (data_copy / "esco/occupations.csv").unlink()

    with pytest.raises(ReferenceDataMissing) as caught:
        load_reference_data(data_copy, lazy_esco=True)
    assert caught.value.path == data_copy / "esco/occupations.csv"


def test_lazy_esco_answers_as_the_eager_load_does(reference: ReferenceData) -> None:
    lazy = load_reference_data(DATA, lazy_esco=True)

    assert lazy.skill(COPE_WITH_STRESS) == reference.skill(COPE_WITH_STRESS)
    assert len(lazy.occupations) == len(reference.occupations)
    assert lazy.public_admin_occupations() == reference.public_admin_occupations()
