"""A profile as the gate returned it, in words: only the consented fields, each
with its label in the visitor's language (candidate cards, colleagues, groups)."""

from __future__ import annotations

from schemas import FIELDS, FIELDS_OF_WORK

from . import skills
from .i18n import catalogue


def shown_fields(reference, profile, lang: str) -> list[tuple[str, str]]:
    document = profile.workcontext
    shown = []
    for key in sorted(profile.fields, key=list(FIELDS).index):
        value = _field_value(reference, key, document, lang)
        if value:
            field = FIELDS[key]
            shown.append((field.label_nl if lang == "nl" else field.label_en, value))
    return shown


def _field_value(reference, key: str, document: dict, lang: str) -> str:
    level = document.get("functionLevel") or {}
    availability = document.get("availability") or {}
    period = availability.get("period") or {}
    tooi = document.get("worksFor")
    values = {
        "name": document.get("name"),
        "employer": next((o.name for o in reference.organisations.values()
                          if o.tooi_uri == tooi), None) if tooi else None,
        "occupation": _occupation(reference, document.get("hasOccupation"), lang),
        "skills": ", ".join(skills.label(reference, u, lang)
                            for u in document.get("skills") or []),
        "level": f"{level.get('levelName', '')} ({level.get('levelRank', '')})"
        if level.get("levelRank") else None,
        "salary_scale": level.get("salaryScale"),
        "field_of_work": _field_of_work(document.get("fieldOfWork"), lang),
        "hours_per_week": availability.get("hoursPerWeek"),
        "available_period": (f"{period.get('startDate', '')} – "
                             f"{period.get('endDate', '')}") if period else None,
        "email": document.get("email"), "telephone": document.get("telephone"),
    }
    value = values.get(key)
    return "" if value is None else str(value)


def _field_of_work(value, lang: str) -> str | None:
    """An HR21 function family in the visitor's language (stored in Dutch)."""
    if value not in FIELDS_OF_WORK:
        return value
    return catalogue(lang).get(f"field_of_work.{value}", value)


def _occupation(reference, uri, lang: str) -> str | None:
    occupation = reference.occupations.get(uri) if uri else None
    if occupation is None:
        return None
    return getattr(occupation, "label_nl" if lang == "nl" else "label_en", None) or uri
