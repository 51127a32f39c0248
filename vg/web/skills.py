"""The ESCO skill picker: search as you type in Dutch and English labels, and the
labels of chosen skills. Skills are public reference data, so the search answers
without a session; the query is bounded and never logged."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response


from ..api.bounded_json import InvalidBody, check_query
from ..api.deps import SystemDep
from ..api.render import json_response
from ..problems import problem
from .refusals import FormError
from .render import lang_of

router = APIRouter(include_in_schema=False)
MAX_RESULTS = 12
MAX_QUERY = 100


def label(reference, uri: str, lang: str) -> str:
    skill = reference.skills.get(uri)
    if skill is None:
        return uri
    first, other = (skill.label_nl, skill.label_en) if lang == "nl" else (
        skill.label_en, skill.label_nl)
    return first or other or uri


def from_form(form, name: str, limit: int) -> list[str]:
    """Every value of a skill field as sent, at most ``limit`` of them (the most
    the action takes, repeats counted): more is refused with that one limit named,
    never the first ``limit`` taken."""
    values = form.getlist(name)
    if len(values) > limit:
        raise FormError("form.too_many_skills", count=str(limit))
    if not all(isinstance(v, str) for v in values):
        raise FormError("form.unknown_skill")
    return values


def to_store(reference, values: list, limit: int) -> list[str]:
    """The skill URIs a saved form names, in order, without repeats; an unknown
    skill or more than ``limit`` is refused rather than dropped."""
    uris = list(dict.fromkeys(v for v in values if isinstance(v, str)))
    if any(uri not in reference.skills for uri in uris):
        raise FormError("form.unknown_skill")
    if len(uris) > limit:
        raise FormError("form.too_many_skills", count=str(limit))
    return uris


def search(reference, text: str, lang: str) -> list[dict]:
    found = reference.skill_search.search(text[:100], lang, MAX_RESULTS)
    return [{"uri": s.uri, "label": label(reference, s.uri, lang)} for s in found]


def chosen(reference, values: list, lang: str) -> list[dict]:
    """Known skill URIs from a form or a saved document, in order, without
    repeats: every one of them, since a form saves back what it shows."""
    seen, out = set(), []
    for uri in values:
        if isinstance(uri, str) and uri in reference.skills and uri not in seen:
            seen.add(uri)
            out.append({"uri": uri, "label": label(reference, uri, lang)})
    return out


@router.get("/vaardigheden")
def suggest(request: Request, system: SystemDep) -> Response:
    """Skills whose labels hold ``q``. A JSON route (the pickers' script calls
    it), so a query it does not take is refused as the API refuses one: 400
    ``invalid-input`` as problem details, never an error page."""
    try:
        text = _search_text(request)
    except InvalidBody as exc:
        return problem(400, exc.code, "Invalid input", exc.detail,
                       errors=exc.problems)
    return json_response(search(system.reference, text, lang_of(request)))


def _search_text(request: Request) -> str:
    check_query(request, frozenset({"q"}), frozenset())
    text = request.query_params.get("q", "")
    if len(text) > MAX_QUERY:
        raise InvalidBody(400, "invalid-input",
                          [f"query.q: at most {MAX_QUERY} characters"])
    return text  # its characters were checked with the query
