"""The end the renewal form proposes is one a renewal can take: a year on, a day
that exists, and within two years of the start a renewal keeps."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from consent import MAX_VALIDITY
from vg.web.pages_holder import _renewal_default

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)


class _Period:
    def __init__(self, valid_from: datetime, valid_until: datetime):
        self.valid_from, self.valid_until = valid_from, valid_until


def test_the_proposed_end_is_a_year_after_the_grant_s_end():
    grant = _Period(NOW, datetime(2027, 3, 1, tzinfo=timezone.utc))

    assert _renewal_default(grant, NOW) == date(2028, 3, 1)


def test_a_grant_ending_on_29_february_is_proposed_28_february_a_year_on():
    now = datetime(2027, 6, 1, tzinfo=timezone.utc)
    grant = _Period(now, datetime(2028, 2, 29, 23, 59, tzinfo=timezone.utc))

    assert _renewal_default(grant, now) == date(2029, 2, 28)


def test_a_long_grant_that_starts_later_is_proposed_an_end_within_the_ceiling():
    start = NOW + timedelta(days=60)
    grant = _Period(start, start + timedelta(days=700))

    proposed = _renewal_default(grant, NOW)

    end = datetime.combine(proposed, datetime.max.time(), tzinfo=timezone.utc)
    assert end - start <= MAX_VALIDITY
