"""The ESCO skill picker: search as you type in Dutch and English labels, and the
labels of chosen skills. Skills are public reference data, so the search answers
without a session; the query is bounded and never logged."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ..api.deps import SystemDep
from ..api.render import json_response
from .refusals import FormError
from .render import lang_of

router = APIRouter(include_in_schema=False)
MAX_RESULTS = 12
MAX_CHOSEN = 20


def label(reference, uri: str, lang: str) -> str:
    skill = reference.skills.get(uri)
    if skill is None:
        return uri
    first, other = (skill.label_nl, skill.label_en) if lang == "nl" else (
        skill.label_en, skill.label_nl)
    return first or other or uri


def to_store(reference, values: list) -> list[str]:
    """The skill URIs a saved form names, in order, without repeats; an unknown
    skill or too many is refused rather than dropped."""
    uris = list(dict.fromkeys(v for v in values if isinstance(v, str)))
    if any(uri not in reference.skills for uri in uris):
        raise FormError("form.unknown_skill")
    if len(uris) > MAX_CHOSEN:
        raise FormError("form.too_many_skills", count=str(MAX_CHOSEN))
    return uris


def search(reference, text: str, lang: str) -> list[dict]:
    found = reference.skill_search.search(text[:100], lang, MAX_RESULTS)
    return [{"uri": s.uri, "label": label(reference, s.uri, lang)} for s in found]


def chosen(reference, values: list, lang: str) -> list[dict]:
    """Known skill URIs from a form, in order, without repeats."""
    seen, out = set(), []
    for uri in values:
        if isinstance(uri, str) and uri in reference.skills and uri not in seen:
            seen.add(uri)
            out.append({"uri": uri, "label": label(reference, uri, lang)})
    return out[:MAX_CHOSEN]


@router.get("/vaardigheden")
def suggest(request: Request, system: SystemDep,
            q: str = Query(default="", max_length=100)) -> Response:
    return json_response(search(system.reference, q, lang_of(request)))
