"""Validation of a Workcontext document: bounds, shipped context, known terms, SHACL.

The shapes graph is parsed once per validator and reused: parsing it per document
would cost more than the validation itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import rdflib
from pyshacl import validate as shacl_validate

from .errors import InvalidDocument, RemoteContextRefused
from .jsonld import (
    WORKCONTEXT_CONTEXT_URL,
    ShippedContextLoader,
    check_bounds,
    expand,
    load_context_terms,
    unknown_terms,
)
from .json_types import json_type_problems, term_kinds

SHAPES_FILE = Path(__file__).with_name("shapes") / "workcontext.ttl"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


class WorkcontextValidator:
    """Checks that a document is a Workcontext this system can store and disclose."""

    def __init__(self) -> None:
        self._loader = ShippedContextLoader()
        self._terms = load_context_terms()
        self._shapes = rdflib.Graph().parse(SHAPES_FILE, format="turtle")
        self._kinds = term_kinds()

    @property
    def loader(self) -> ShippedContextLoader:
        return self._loader

    def validate(self, document: Any, holder_id: str | None = None) -> dict:
        """Return the document unchanged if valid; raise InvalidDocument listing all
        problems otherwise (NL API design rule: all validation errors at once)."""
        return self._validate(document, holder_id, self._shapes)

    def check_structure(self, document: Any, holder_id: str | None = None) -> dict:
        """The checks that need no JSON-LD processing: envelope, shipped context only
        (none nested), known terms, JSON value types. The registry runs these on every
        projection it receives; the full SHACL validation runs in the pod on write."""
        self._check_envelope(document, holder_id)
        unknown = unknown_terms(document, self._terms)
        if unknown:
            raise InvalidDocument([f"{path} is not a Workcontext term" for path in unknown])
        problems = json_type_problems(document, self._kinds)
        if problems:
            raise InvalidDocument(problems)
        return document

    def _validate(self, document: Any, holder_id: str | None, shapes) -> dict:
        self.check_structure(document, holder_id)
        expanded = expand(document, self._loader)
        self._check_shapes(expanded, shapes)
        return document

    def _check_envelope(self, document: Any, holder_id: str | None) -> None:
        if not isinstance(document, dict):
            raise InvalidDocument(["a Workcontext must be a JSON object"])
        check_bounds(document)
        context = document.get("@context")
        for url in _context_urls(context):
            if url != WORKCONTEXT_CONTEXT_URL:
                raise RemoteContextRefused(url)
        for nested in _nested_contexts(document):
            for url in _context_urls(nested):
                if url != WORKCONTEXT_CONTEXT_URL:
                    raise RemoteContextRefused(url)
            raise InvalidDocument(["@context is accepted only at the top of a document"])
        problems = []
        if context != WORKCONTEXT_CONTEXT_URL:
            problems.append(f"@context must be {WORKCONTEXT_CONTEXT_URL}")
        if document.get("type") != "Person":
            problems.append("type must be Person")
        if holder_id is not None and document.get("id") != holder_id:
            problems.append("id must be the holder's did:key")
        if problems:
            raise InvalidDocument(problems)

    def _check_shapes(self, expanded: list, shapes: rdflib.Graph) -> None:
        data = rdflib.Graph().parse(data=json.dumps(expanded), format="json-ld")
        conforms, report, _ = shacl_validate(
            data, shacl_graph=shapes, inference="none", allow_warnings=False
        )
        if not conforms:
            raise InvalidDocument(_messages(report))


def check_references(reference, document: dict) -> None:
    """Identifiers in a Workcontext must name known organisations and ESCO concepts.
    Each names one: a list where one identifier belongs is refused, not looked up."""
    problems = []
    employer = document.get("worksFor")
    if "worksFor" in document and not (isinstance(employer, str)
                                       and reference.has_tooi_uri(employer)):
        problems.append("worksFor must be the TOOI identifier of a known organisation")
    skills = document.get("skills")
    for uri in skills if isinstance(skills, list) else []:
        if not (isinstance(uri, str) and reference.has_skill(uri)):
            problems.append(f"{uri} is not a known ESCO skill")
    occupation = document.get("hasOccupation")
    if occupation is not None and not (isinstance(occupation, str)
                                       and reference.has_occupation(occupation)):
        problems.append(f"{occupation} is not a known ESCO occupation")
    if problems:
        raise InvalidDocument(problems)


def _nested_contexts(document: dict) -> list[Any]:
    """Every ``@context`` below the top level: a nested context can redefine terms."""
    found, stack = [], [v for k, v in document.items() if k != "@context"]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "@context" in node:
                found.append(node["@context"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _context_urls(context: Any) -> list[str]:
    """Every context named by URL, also inside a list of contexts."""
    if isinstance(context, str):
        return [context]
    if isinstance(context, list):
        return [c for c in context if isinstance(c, str)]
    return []


def _messages(report: rdflib.Graph) -> list[str]:
    messages = {str(m) for m in report.objects(None, SH.resultMessage)}
    return sorted(messages) or ["document does not conform to the Workcontext shapes"]
