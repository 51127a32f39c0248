"""JSON value types that the shipped context promises, checked before JSON-LD.

JSON-LD type coercion turns ``"16"`` or ``true`` for an ``xsd:integer`` term into a
literal that SHACL does not always reject, so the JSON value itself is checked against
the term's declared type: integers are JSON integers, dates are ``YYYY-MM-DD`` strings,
IRIs and texts are strings. Objects and arrays are checked member by member.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from .jsonld import SHIPPED_CONTEXTS, WORKCONTEXT_CONTEXT_URL
from .texts import (
    NO_HIDDEN,
    ONE_LINE,
    has_hidden_character,
    has_visible_character,
    is_one_line,
)

XSD = "http://www.w3.org/2001/XMLSchema#"
# Terms whose value is an object of further terms rather than a single value.
OBJECT_TERMS = frozenset({"functionLevel", "availability", "period", "introVideo",
                          "ratingSummary"})
MAX_TEXT = 2000
# A node below the top is a blank node of the vocabulary: an identifier there would
# carry an IRI of the holder's choosing (their own did, another holder's, any
# address) into every projection of the field that holds the node.
IDENTIFIER_KEYS = frozenset({"id", "@id"})
# Texts a Workcontext must hold, which must show (texts.py): the shapes count
# characters only, and a zero-width space is one.
REQUIRED_TEXTS = {"name": "name is required: one text of 1 to 200 characters, one "
                          "of them visible"}
# The end of the sentence a refusal of a repeated value says, after the field's name.
ONCE = "must name each value once"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def term_kinds(url: str = WORKCONTEXT_CONTEXT_URL) -> dict[str, str]:
    """Each term's expected JSON kind: "integer", "date", "object" or "text"."""
    context = json.loads(SHIPPED_CONTEXTS[url].read_text(encoding="utf-8"))["@context"]
    kinds = {}
    for term, definition in context.items():
        if term.startswith("@"):
            continue
        declared = definition.get("@type") if isinstance(definition, dict) else None
        declared = (declared or "").replace("xsd:", XSD)
        kinds[term] = ("object" if term in OBJECT_TERMS else
                       "integer" if declared == XSD + "integer" else
                       "date" if declared == XSD + "date" else "text")
    return kinds


def json_type_problems(document: Any, kinds: dict[str, str]) -> list[str]:
    problems: list[str] = []
    _walk(document, "", kinds, problems)
    return problems


def _walk(node: dict, prefix: str, kinds: dict[str, str], problems: list[str]) -> None:
    for key, value in node.items():
        if key == "@context":
            continue
        path = prefix + key
        if prefix and key in IDENTIFIER_KEYS:
            problems.append(f"{path} is not allowed: a nested node has no identifier")
            continue
        if path in REQUIRED_TEXTS and isinstance(value, str) \
                and not has_visible_character(value):
            problems.append(REQUIRED_TEXTS[path])
            continue
        if isinstance(value, list) and names_a_value_twice(value):
            problems.append(f"{path} {ONCE}")
        for item in value if isinstance(value, list) else [value]:
            problem = _problem(path, item, kinds.get(key, "text"))
            if problem:
                problems.append(problem)
            elif isinstance(item, dict):
                _walk(item, path + ".", kinds, problems)


def _problem(path: str, value: Any, kind: str) -> str | None:
    if kind == "object":
        return None if isinstance(value, dict) else f"{path} must be an object"
    if kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"{path} must be an integer"
    if not isinstance(value, str):
        return f"{path} must be a string"
    if len(value) > MAX_TEXT:
        return f"{path} must be at most {MAX_TEXT} characters"
    if kind == "date" and not _is_date(value):
        return f"{path} must be a date (YYYY-MM-DD)"
    if not is_one_line(value):  # every text of a Workcontext is a name or a code
        return f"{path} {ONE_LINE}"
    if has_hidden_character(value):
        return f"{path} {NO_HIDDEN}"
    return None


def names_a_value_twice(values: list) -> bool:
    """Whether a list holds one value twice: JSON-LD reads a list of a term as a
    set, so the signed JSON and the registry's copy would say more than the
    graph does (a skill stored and scored twice)."""
    seen = set()
    for item in values:
        key = item if isinstance(item, str) else json.dumps(item, sort_keys=True)
        if key in seen:
            return True
        seen.add(key)
    return False


def _is_date(value: str) -> bool:
    """``YYYY-MM-DD`` only (XSD 1.1 xsd:date without a time zone): Python's
    ``date.fromisoformat`` also takes week dates such as ``2027-W01-1``."""
    if not _DATE.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
