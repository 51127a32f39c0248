"""Validation of a Workcontext document: bounds, shipped context, known terms, SHACL.

The SHACL shapes are compiled once per validator, on its first document, into plain
checks (shapes_compiler.py) that run on the expanded document; pyshacl is the
reference they are tested against, not part of the write path. A document that uses
the shipped context alone is expanded by its term table (shipped_expansion.py),
any other by pyld; the two give the same expansion wherever the first answers.
Where the term table answers, the shapes read the document's triples from it
directly, without an expanded document in between (``ShippedExpansion.graph``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from .shapes_check import NodeShape, check, check_graph
from .shapes_compiler import compile_shapes
from .shipped_expansion import ShippedExpansion
from .structure_walk import plainly_well_formed

SHAPES_FILE = Path(__file__).with_name("shapes") / "workcontext.ttl"
# The most skills a Workcontext names: the shape's sh:maxCount on schema:skills,
# here for the forms that edit one (tests hold the two equal).
MAX_SKILLS = 100


class WorkcontextValidator:
    """Checks that a document is a Workcontext this system can store and disclose."""

    def __init__(self, shapes_file: Path = SHAPES_FILE,
                 shipped_expansion: bool = True, one_walk: bool = True,
                 direct_graph: bool = True) -> None:
        self._loader = ShippedContextLoader()
        self._shipped = ShippedExpansion() if shipped_expansion else None
        self._terms = load_context_terms()
        self._kinds = term_kinds()
        # ``one_walk=False`` runs the three walks on every document: the tests
        # hold the answers equal both ways (structure_walk.py).
        self._one_walk = one_walk
        # ``direct_graph=False`` expands first, then reads the expansion: the
        # tests hold the verdicts equal both ways.
        self._direct_graph = direct_graph and self._shipped is not None
        self._shapes_file = shapes_file
        self._shapes: tuple[NodeShape, ...] | None = None
        self._compiling = threading.Lock()

    @property
    def loader(self) -> ShippedContextLoader:
        return self._loader

    @property
    def shapes(self) -> tuple[NodeShape, ...]:
        """The compiled shapes, compiled by the first caller (rdflib is loaded then)."""
        if self._shapes is None:
            with self._compiling:
                if self._shapes is None:
                    self._shapes = compile_shapes(self._shapes_file)
        return self._shapes

    def validate(self, document: Any, holder_id: str | None = None) -> dict:
        """Return the document unchanged if valid; raise InvalidDocument listing all
        problems otherwise (NL API design rule: all validation errors at once)."""
        self.check_structure(document, holder_id)
        self._check_document_shapes(document)
        return document

    def validated(self, document: Any, holder_id: str, reference, *,
                  parsed_bounded: bool = False) -> "Validated":
        """``validate``, then ``check_references`` against ``reference``: every
        check a holder's document passes before it is stored, in that order. The
        answer says so, for a later check that would walk the same structure
        again (the registry's, before a save)."""
        self.check_structure(document, holder_id, parsed_bounded=parsed_bounded)
        self._check_document_shapes(document)
        check_references(reference, document)
        return Validated(document, holder_id, self, reference)

    def expand(self, document: dict) -> list:
        """The expanded document: by the shipped context's term table when the
        document stays within it, else by pyld."""
        expanded = self._shipped.expand(document) if self._shipped else None
        return expand(document, self._loader) if expanded is None else expanded

    def check_shapes(self, expanded: list) -> None:
        """The SHACL shapes on an expanded document (InvalidDocument on failure)."""
        problems = check(self.shapes, expanded)
        if problems:
            raise InvalidDocument(problems)

    def _check_document_shapes(self, document: Any) -> None:
        """``check_shapes(expand(document))``, by the term table's triples where
        it reads the document."""
        graph = self._shipped.graph(document) if self._direct_graph else None
        if graph is None:
            self.check_shapes(self.expand(document))
            return
        problems = check_graph(self.shapes, graph)
        if problems:
            raise InvalidDocument(problems)

    def check_structure(self, document: Any, holder_id: str | None = None, *,
                        parsed_bounded: bool = False) -> dict:
        """The checks that need no JSON-LD processing: envelope, shipped context only
        (none nested), known terms, JSON value types. The registry runs these on every
        projection it receives; the full SHACL validation runs in the pod on write.

        ``parsed_bounded``: the document is (part of) a value ``parse_bounded``
        returned, whose checks of depth, size, numbers and characters hold for
        every part of it; they are not walked again."""
        if self._one_walk and isinstance(document, dict) \
                and plainly_well_formed(document, self._terms, self._kinds):
            self._check_envelope(document, holder_id, parsed_bounded,
                                 nested_checked=True)
            return document
        self._check_envelope(document, holder_id, parsed_bounded)
        unknown = unknown_terms(document, self._terms)
        if unknown:
            raise InvalidDocument([f"{path} is not a Workcontext term" for path in unknown])
        problems = json_type_problems(document, self._kinds)
        if problems:
            raise InvalidDocument(problems)
        return document

    def _check_envelope(self, document: Any, holder_id: str | None,
                        parsed_bounded: bool = False,
                        nested_checked: bool = False) -> None:
        """``nested_checked``: ``plainly_well_formed`` found no nested context."""
        if not isinstance(document, dict):
            raise InvalidDocument(["a Workcontext must be a JSON object"])
        if not parsed_bounded:
            check_bounds(document)
        context = document.get("@context")
        for url in _context_urls(context):
            if url != WORKCONTEXT_CONTEXT_URL:
                raise RemoteContextRefused(url)
        for nested in () if nested_checked else _nested_contexts(document):
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


@dataclass(frozen=True, slots=True, eq=False)
class Validated:
    """A document that passed ``check_structure`` for ``holder`` and the shapes of
    ``validator``, and ``check_references`` against ``reference``
    (``WorkcontextValidator.validated``). A check by the same validator and
    reference data may take these as done; the document is not to change after."""

    document: Any
    holder: str
    validator: WorkcontextValidator
    reference: Any

    def covers(self, validator: WorkcontextValidator, reference, holder: str) -> bool:
        """Whether the structure and references were checked by ``validator``
        against ``reference`` for ``holder``: the same objects, not equal ones."""
        return (self.validator is validator and self.reference is reference
                and self.holder == holder)


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
