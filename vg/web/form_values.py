"""Reading typed values out of a submitted form: one way for every page, with the
field named in the error by its catalogue label (ASCII digits only: ``"²".isdigit()``
is true in Python). A value an action needs and does not get raises ``FormError``,
which every page answers with 400 and its error block: nothing is done."""

from __future__ import annotations

import re
from datetime import date

from schemas import day_in_range

from ..api.deps import MAX_ID
from .refusals import FormError


def whole_number(text: str, label: str) -> int | None:
    if not text:
        return None
    if not (len(text) <= MAX_DIGITS and text.isascii() and text.isdigit()):
        raise FormError("form.whole_number", field=label)
    return int(text)


def record_id(value) -> int | None:
    """A database id from a form field, or None: ASCII digits, at most MAX_ID
    (a long run of digits is not even converted)."""
    if (isinstance(value, str) and len(value) <= MAX_DIGITS and value.isascii()
            and value.isdigit() and 0 < int(value) <= MAX_ID):
        return int(value)
    return None


MAX_DIGITS = 10  # the largest number a form takes, a database id, has 10 digits


def required_text(value, label: str, limit: int) -> str:
    """A text the action can not do without: present, not blank, at most ``limit``
    characters (a longer one is refused, never cut to something else)."""
    text = value.strip() if isinstance(value, str) else ""
    if not 0 < len(text) <= limit:
        raise FormError("form.required", field=label)
    return text


def optional_text(value, label: str, limit: int) -> str:
    """A text the action can do without: "" when absent, else stripped and at most
    ``limit`` characters (a longer one is refused, never cut to something else)."""
    if value is None:
        return ""
    text = value.strip() if isinstance(value, str) else None
    if text is None or len(text) > limit:
        raise FormError("form.too_long", field=label, limit=str(limit))
    return text


def texts(form, name: str, label: str, limit: int) -> list[str]:
    """Every value a repeated field carries (a list of choices), at most ``limit``
    of them: more is refused, never the first ``limit`` taken."""
    values = form.getlist(name)
    if len(values) > limit or not all(isinstance(v, str) for v in values):
        raise FormError("form.too_many", field=label, count=str(limit))
    return values


def action(value, actions: tuple[str, ...], default: str) -> str:
    """The button that sent the form. A form sent without one (a page-through
    form, a script) does the default; a value that names no button of the form is
    refused, never taken as the default."""
    if value is None:
        return default
    return one_of(value, actions, "form.action")


def required_id(value, label: str) -> int:
    found = record_id(value)
    if found is None:
        raise FormError("form.required", field=label)
    return found


def checkbox(value, label: str) -> bool:
    """A ticked box sends ``ja``, an empty one nothing; any other value is refused,
    never read as either."""
    if value is None:
        return False
    if value != "ja":
        raise FormError("form.choice", field=label)
    return True


def one_of(value, options: tuple[str, ...], label: str) -> str:
    if not isinstance(value, str) or value not in options:
        raise FormError("form.choice", field=label)
    return value


def choices(form, name: str, options, label: str) -> list[str]:
    """Every value of a list of choices, each one of ``options``: a value that
    names none is refused, never left out (the action would do less than was
    asked)."""
    values = texts(form, name, label, len(options))
    if not all(v in options for v in values):
        raise FormError("form.choice", field=label)
    return values


# A day written as the pages ask for it (JJJJ-MM-DD): ``date.fromisoformat`` also
# takes the basic (20270630) and week (2027-W26-3) forms of ISO 8601.
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def iso_day(text) -> date | None:
    """A day written JJJJ-MM-DD that exists, or None."""
    if not (isinstance(text, str) and ISO_DAY.fullmatch(text)):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def iso_date(text: str, label: str) -> date | None:
    if not text:
        return None
    day = iso_day(text)
    if day is None:
        raise FormError("form.date", field=label)
    return in_range(day, label)


def in_range(day: date, label: str) -> date:
    """``day``, if it is in the range of ``schemas.dates``."""
    if not day_in_range(day):
        raise FormError("form.date_range", field=label)
    return day
