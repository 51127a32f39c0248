"""Timestamps are written in one RFC 3339 spelling, whole seconds in UTC."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consent.errors import InvalidGrant
from consent.timefmt import format_time, parse_time

OFFSETS = st.integers(-23 * 60, 23 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes)))


@given(st.datetimes(min_value=datetime(2, 1, 1), timezones=OFFSETS))
def test_a_timestamp_is_spelled_as_strftime_spells_it_in_utc(moment):
    utc = moment.astimezone(timezone.utc).replace(microsecond=0)

    assert format_time(moment) == utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_naive_timestamp_is_refused():
    with pytest.raises(ValueError):
        format_time(datetime(2026, 1, 1))


def _general_reading(value: str) -> datetime:
    """What ``parse_time`` read before it had a path for the written form."""
    return datetime.fromisoformat(value.upper().replace("Z", "+00:00")).astimezone(
        timezone.utc)


@given(st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=OFFSETS))
def test_a_written_timestamp_reads_back_as_the_same_utc_moment(moment):
    written = format_time(moment)

    read = parse_time(written, "issued")

    assert read == _general_reading(written)
    assert read.tzinfo is timezone.utc
    assert read == moment.astimezone(timezone.utc).replace(microsecond=0)


@pytest.mark.parametrize("value", [
    "2026-12-04t12:00:00z", "2026-12-04T12:00:00.5Z", "2026-12-04T13:00:00+01:00",
    "2026-12-04T12:00:00-00:30"])
def test_other_rfc_3339_spellings_read_as_their_utc_moment(value):
    read = parse_time(value, "issued")

    assert read == _general_reading(value)
    assert read.tzinfo is timezone.utc


@pytest.mark.parametrize("value", [
    "2026-13-04T12:00:00Z", "2026-02-30T12:00:00Z", "2026-12-04T24:00:00Z",
    "2026-12-04T23:59:60Z", "２０２６-12-04T12:00:00Z", "2026-12-04T12:00:00",
    "2026-12-04 12:00:00Z", "2026-12-04T12:00:00Z\n", 20261204, None])
def test_a_timestamp_out_of_range_or_form_is_refused_with_its_name(value):
    with pytest.raises(InvalidGrant) as refused:
        parse_time(value, "issued")

    assert "issued" in str(refused.value.problems)
