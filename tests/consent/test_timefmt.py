"""Timestamps are written in one RFC 3339 spelling, whole seconds in UTC."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consent.timefmt import format_time

OFFSETS = st.integers(-23 * 60, 23 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes)))


@given(st.datetimes(min_value=datetime(2, 1, 1), timezones=OFFSETS))
def test_a_timestamp_is_spelled_as_strftime_spells_it_in_utc(moment):
    utc = moment.astimezone(timezone.utc).replace(microsecond=0)

    assert format_time(moment) == utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_naive_timestamp_is_refused():
    with pytest.raises(ValueError):
        format_time(datetime(2026, 1, 1))
