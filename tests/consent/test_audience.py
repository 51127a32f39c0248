"""Each kind of audience contains exactly the organisations the real reference data
puts in it (CBS municipalities, their borders and provinces; ministries)."""

from __future__ import annotations

import pytest

import dataclasses
from types import MappingProxyType

from consent import KINDS, Audience, InvalidAudience
from tests.factories import (
    AMERSFOORT,
    AMSTERDAM,
    DEN_HAAG,
    MINISTRY_BZK,
    PROVINCE_NOORD_HOLLAND,
    PROVINCE_UTRECHT,
    UTRECHT,
    WATER_BOARD_AGV,
    ZEIST,
    reference,
)

REF = reference()


def audience(**data) -> Audience:
    return Audience.from_json(data)


def members(chosen: Audience, codes) -> set[str]:
    return {code for code in codes if chosen.contains(code, REF)}


SAMPLE = (UTRECHT, ZEIST, AMERSFOORT, AMSTERDAM, DEN_HAAG, PROVINCE_UTRECHT,
          PROVINCE_NOORD_HOLLAND, MINISTRY_BZK, WATER_BOARD_AGV, "GM9999", "")


def test_the_reference_data_says_what_these_tests_assume():
    assert ZEIST in REF.neighbours(UTRECHT) and UTRECHT in REF.neighbours(ZEIST)
    assert AMERSFOORT not in REF.neighbours(UTRECHT)
    assert REF.municipality(AMERSFOORT).province_code == PROVINCE_UTRECHT
    assert REF.organisation(MINISTRY_BZK).sector == "ministry"
    assert MINISTRY_BZK not in REF.municipalities


def test_an_organisation_audience_contains_only_that_organisation():
    chosen = audience(kind="organisation", organisations=[UTRECHT])

    assert members(chosen, SAMPLE) == {UTRECHT}


def test_an_organisations_audience_contains_exactly_the_listed_ones():
    chosen = audience(kind="organisations", organisations=[MINISTRY_BZK, AMSTERDAM])

    assert members(chosen, SAMPLE) == {MINISTRY_BZK, AMSTERDAM}


def test_employer_and_neighbours_contains_utrecht_and_every_bordering_municipality():
    chosen = audience(kind="employer_and_neighbours", employer=UTRECHT)

    assert members(chosen, REF.organisations) == {UTRECHT} | REF.neighbours(UTRECHT)
    assert members(chosen, SAMPLE) == {UTRECHT, ZEIST}


def test_a_province_audience_contains_its_municipalities_and_the_province_itself():
    chosen = audience(kind="province", province=PROVINCE_UTRECHT)
    municipalities = REF.municipalities_in_province(PROVINCE_UTRECHT)

    assert members(chosen, REF.municipalities) == municipalities
    assert members(chosen, SAMPLE) == {UTRECHT, ZEIST, AMERSFOORT, PROVINCE_UTRECHT}


def test_all_municipalities_contains_every_municipality_and_no_other_organisation():
    chosen = audience(kind="all_municipalities")

    assert members(chosen, REF.organisations) == set(REF.municipalities)
    assert not chosen.contains(MINISTRY_BZK, REF)
    assert not chosen.contains(PROVINCE_UTRECHT, REF)
    assert not chosen.contains(WATER_BOARD_AGV, REF)


def test_an_employer_audience_contains_only_the_employer_of_any_sector():
    assert members(audience(kind="employer", employer=UTRECHT), SAMPLE) == {UTRECHT}
    chosen = audience(kind="employer", employer=MINISTRY_BZK)

    assert members(chosen, REF.organisations) == {MINISTRY_BZK}


def test_a_corop_audience_contains_the_municipalities_of_that_region_only():
    chosen = audience(kind="corop", region="CR17")
    expected = {c for c, m in REF.municipalities.items() if m.corop_code == "CR17"}

    assert members(chosen, REF.organisations) == expected
    assert members(chosen, SAMPLE) == {UTRECHT, ZEIST, AMERSFOORT}


def test_a_safety_region_audience_contains_its_municipalities_and_the_region_itself():
    chosen = audience(kind="safety_region", region="VR13")
    expected = {c for c, m in REF.municipalities.items()
                if m.safety_region_code == "VR13"}

    assert members(chosen, REF.organisations) == expected | {"VR13"}
    assert AMSTERDAM in expected and UTRECHT not in expected


@pytest.mark.parametrize("sector", ["municipality", "province", "ministry",
                                    "water_board", "safety_region",
                                    "environment_service"])
def test_a_sector_audience_contains_every_organisation_of_that_sector_only(sector):
    chosen = audience(kind="sector", sector=sector)
    expected = {c for c, o in REF.organisations.items() if o.sector == sector}

    assert members(chosen, REF.organisations) == expected
    assert expected


def test_the_cross_sector_pool_contains_every_known_organisation_and_nothing_else():
    chosen = audience(kind="cross_sector")

    assert members(chosen, REF.organisations) == set(REF.organisations)
    assert not chosen.contains("GM9999", REF) and not chosen.contains("", REF)


def test_only_the_two_employer_kinds_need_an_employer():
    assert {k for k in KINDS if Audience.from_json(example(k)).needs_employer} == {
        "employer", "employer_and_neighbours"}


def test_a_rule_follows_the_reference_data_it_is_evaluated_against():
    """A merger is a change of reference data: the grant, a rule, stays as it is."""
    chosen = audience(kind="corop", region="CR17")
    merged = dataclasses.replace(REF, municipalities=MappingProxyType({
        **REF.municipalities,
        AMSTERDAM: dataclasses.replace(REF.municipalities[AMSTERDAM],
                                       corop_code="CR17")}))

    assert not chosen.contains(AMSTERDAM, REF)
    assert chosen.contains(AMSTERDAM, merged)


@pytest.mark.parametrize("chosen, province, inside", [
    ({"kind": "employer_and_neighbours", "employer": UTRECHT}, PROVINCE_UTRECHT, True),
    ({"kind": "province", "province": PROVINCE_UTRECHT}, PROVINCE_UTRECHT, True),
    ({"kind": "province", "province": PROVINCE_NOORD_HOLLAND}, PROVINCE_UTRECHT, False),
    ({"kind": "corop", "region": "CR17"}, PROVINCE_UTRECHT, True),
    ({"kind": "safety_region", "region": "VR09"}, PROVINCE_UTRECHT, True),
    ({"kind": "organisations", "organisations": [ZEIST, AMERSFOORT]},
     PROVINCE_UTRECHT, True),
    ({"kind": "organisations", "organisations": [ZEIST, AMSTERDAM]},
     PROVINCE_UTRECHT, False),
    ({"kind": "organisation", "organisations": [MINISTRY_BZK]}, PROVINCE_UTRECHT,
     False),
    ({"kind": "all_municipalities"}, PROVINCE_UTRECHT, False),
    ({"kind": "sector", "sector": "municipality"}, PROVINCE_UTRECHT, False),
    ({"kind": "cross_sector"}, PROVINCE_UTRECHT, False),
])
def test_within_province_holds_only_when_every_possible_member_is_inside(
        chosen, province, inside):
    rule = Audience.from_json(chosen)

    assert rule.within_province(province, REF) is inside
    if inside:
        assert members(rule, REF.organisations) <= (
            REF.municipalities_in_province(province) | {province, "VR09"})


@pytest.mark.parametrize("data", [
    {"kind": "employer", "employer": "XX0000"},
    {"kind": "corop", "region": "CR99"},
    {"kind": "corop", "region": "VR09"},
    {"kind": "safety_region", "region": "CR17"},
    {"kind": "sector", "sector": "housing_corporation"},
    {"kind": "organisation", "organisations": ["XX0000"]},
    {"kind": "organisations", "organisations": [UTRECHT, "XX0000"]},
    {"kind": "employer_and_neighbours", "employer": MINISTRY_BZK},
    {"kind": "employer_and_neighbours", "employer": "GM9999"},
    {"kind": "province", "province": UTRECHT},
    {"kind": "province", "province": "PV99"},
])
def test_an_audience_naming_unknown_organisations_is_refused(data):
    with pytest.raises(InvalidAudience):
        Audience.from_json(data).check_known(REF)


@pytest.mark.parametrize("data", [
    None,
    {},
    {"kind": "everyone"},
    {"kind": "all_municipalities", "employer": UTRECHT},
    {"kind": "organisation", "organisations": [UTRECHT, ZEIST]},
    {"kind": "organisations", "organisations": []},
    {"kind": "organisations", "organisations": UTRECHT},
    {"kind": "province"},
    {"kind": "employer_and_neighbours", "employer": 344},
    {"kind": "cross_sector", "sector": "ministry"},
    {"kind": "sector"},
    {"kind": "corop", "province": PROVINCE_UTRECHT},
])
def test_a_malformed_audience_is_refused(data):
    with pytest.raises(InvalidAudience):
        Audience.from_json(data)


@pytest.mark.parametrize("data", [
    {"kind": "organisation", "organisations": [UTRECHT]},
    {"kind": "organisations", "organisations": [ZEIST, UTRECHT]},
    {"kind": "employer_and_neighbours", "employer": UTRECHT},
    {"kind": "province", "province": PROVINCE_UTRECHT},
    {"kind": "all_municipalities"},
    {"kind": "employer", "employer": MINISTRY_BZK},
    {"kind": "corop", "region": "CR17"},
    {"kind": "safety_region", "region": "VR09"},
    {"kind": "sector", "sector": "water_board"},
    {"kind": "cross_sector"},
])
def test_an_audience_round_trips_through_json(data):
    chosen = Audience.from_json(data)

    assert Audience.from_json(chosen.to_json()) == chosen
    chosen.check_known(REF)


def example(kind: str) -> dict:
    """A valid audience of each kind."""
    return {
        "organisation": {"organisations": [UTRECHT]},
        "organisations": {"organisations": [UTRECHT, ZEIST]},
        "employer": {"employer": UTRECHT},
        "employer_and_neighbours": {"employer": UTRECHT},
        "province": {"province": PROVINCE_UTRECHT},
        "corop": {"region": "CR17"},
        "safety_region": {"region": "VR09"},
        "all_municipalities": {},
        "sector": {"sector": "ministry"},
        "cross_sector": {},
    }[kind] | {"kind": kind}


def test_every_kind_has_an_example_that_passes_the_reference_check():
    for kind in KINDS:
        Audience.from_json(example(kind)).check_known(REF)
