"""Reading typed values out of a submitted form: one way for every page, with the
field named in the error (ASCII digits only: ``"²".isdigit()`` is true in Python)."""

from __future__ import annotations

from datetime import date


def whole_number(text: str, field: str) -> int | None:
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"{field} must be a whole number")
    return int(text)


def iso_date(text: str, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{field} must be a date") from None
