"""Each kind of audience contains exactly the organisations the real reference data
puts in it (CBS municipalities, their borders and provinces; ministries)."""

from __future__ import annotations

import pytest

from consent import Audience, InvalidAudience
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


@pytest.mark.parametrize("data", [
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
])
def test_an_audience_round_trips_through_json(data):
    chosen = Audience.from_json(data)

    assert Audience.from_json(chosen.to_json()) == chosen
    chosen.check_known(REF)
