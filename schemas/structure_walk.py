"""One walk that tells a well-formed Workcontext structure apart, in one pass.

``WorkcontextValidator.check_structure`` runs three walks over every document: no
``@context`` below the top (workcontext.py), every key a term of the shipped
context (``jsonld.unknown_terms``), every value of its term's JSON kind
(``json_types``). On a document that passes them all, which is nearly every
document a holder sends, they only confirm, three times over. ``plainly_well_formed``
walks once and answers True only where all three find nothing: a value of its
term's kind holds no keys but under an object term, which it walks in turn. Any
other answer sends the document through the three walks, which name what is
wrong, in their order: this walk never decides a refusal or its message.
"""

from __future__ import annotations

from typing import Any

from .json_types import (
    IDENTIFIER_KEYS,
    MAX_TEXT,
    REQUIRED_TEXTS,
    _is_date,
    names_a_value_twice,
)
from .texts import has_hidden_character, has_visible_character, is_one_line


def plainly_well_formed(document: dict, terms: frozenset[str],
                        kinds: dict[str, str]) -> bool:
    """True only if ``document`` (an object) has no nested ``@context``, no key
    outside ``terms``, no identifier below the top, and every value of the JSON kind ``kinds`` gives its term."""
    return _node(document, terms, kinds, top=True)


def _node(node: dict, terms: frozenset[str], kinds: dict[str, str],
          top: bool = False) -> bool:
    for key, value in node.items():
        if key == "@context":
            if top:
                continue
            return False  # a nested context: refused by the envelope check
        if key not in terms or (not top and key in IDENTIFIER_KEYS):
            return False
        if top and key in REQUIRED_TEXTS and isinstance(value, str) \
                and not has_visible_character(value):
            return False
        if isinstance(value, list) and names_a_value_twice(value):
            return False
        kind = kinds.get(key, "text")
        for item in value if isinstance(value, list) else (value,):
            if not _of_kind(item, kind):
                return False
            if kind == "object" and not _node(item, terms, kinds):
                return False
    return True


def _of_kind(value: Any, kind: str) -> bool:
    """``json_types._problem`` finds nothing (the same tests, without a path)."""
    if kind == "object":
        return isinstance(value, dict)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if not isinstance(value, str) or len(value) > MAX_TEXT or not is_one_line(value) \
            or has_hidden_character(value):
        return False
    return kind != "date" or _is_date(value)
