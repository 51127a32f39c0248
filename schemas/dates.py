"""The range of every date the system takes from outside: an assignment's period, a
grant's validity, an availability period, an audit query's bounds.

A calendar allows the years 1 to 9999, and a date at either end broke arithmetic
(a day added to 9999-12-31 overflows) or stood for a typing mistake that was then
kept. Nothing here plans or grants work before the year 2000 or after 2099.
"""

from __future__ import annotations

from datetime import date, datetime

FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
DAY_RANGE = f"from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"


def day_in_range(day: date) -> bool:
    """Whether ``day`` (a date, or a date-time's own calendar day) is in range."""
    if isinstance(day, datetime):
        day = day.date()
    return FIRST_DAY <= day <= LAST_DAY
