"""Reading typed values out of a submitted form: one way for every page, with the
field named in the error by its catalogue label (ASCII digits only: ``"²".isdigit()`` is true in Python)."""

from __future__ import annotations

from datetime import date

from .refusals import FormError


def whole_number(text: str, label: str) -> int | None:
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise FormError("form.whole_number", field=label)
    return int(text)


def iso_date(text: str, label: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FormError("form.date", field=label) from None
