"""SHACL shapes compiled into plain Python checks, run on expanded JSON-LD.

pyshacl re-indexes the shapes graph on every call and needs the document as an rdflib
graph first; together that cost 5-13 ms per Workcontext, most of a write. The shapes
in ``shapes/`` use a small part of SHACL (SHACL 1.0, W3C Recommendation 2017), so
``shapes_compiler.py`` reads them once into the records below, and ``check`` runs
them on pyld's expanded output directly, in well under a millisecond.

What the checks implement, and nothing more (the compiler refuses anything else):

- targets: ``sh:targetClass`` (section 2.1.3.2; no ``rdfs:subClassOf`` can occur in
  a Workcontext, whose predicates all come from the shipped context);
- property shapes with a predicate path (2.3.1), ``sh:minCount`` and ``sh:maxCount``
  (4.2);
- value constraints on node and property shapes: ``sh:nodeKind sh:IRI``,
  ``sh:datatype`` (4.1.1; xsd:string, xsd:integer, xsd:decimal, xsd:date, each
  checked against its XSD 1.1 lexical space), ``sh:minInclusive`` and
  ``sh:maxInclusive`` (4.3), ``sh:minLength``, ``sh:maxLength`` and ``sh:pattern``
  (4.4; a blank node fails them; they read the lexical form as written, where
  rdflib first rewrites a typed literal's form, so "1." passes pyshacl as "1"
  and fails here), ``sh:in`` (4.8.3), and ``sh:node`` (4.7.1) on property shapes;
- ``sh:message`` (2.1.5): every failing shape reports its message, and a value that
  fails a ``sh:node`` also reports the messages of the inner shape, as pyshacl does
  in its result details.

tests/schemas/test_shapes_check.py holds these checks equal to pyshacl's verdict and
messages on generated valid and invalid Workcontexts; pyshacl stays the reference.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Callable

from .errors import InvalidDocument

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"

# An RDF term as a tuple: ("iri", text), ("blank", label) or
# ("literal", lexical form, datatype IRI or None for a plain string).
Term = tuple


@dataclass(frozen=True, slots=True)
class ValueRule:
    """One constraint on each value node: ``test`` says whether a term passes."""

    name: str
    test: Callable[[Term], bool]


@dataclass(frozen=True, slots=True)
class PropertyShape:
    path: str
    min_count: int | None
    max_count: int | None
    rules: tuple[ValueRule, ...]
    nodes: tuple["NodeShape", ...]
    message: str


@dataclass(frozen=True, slots=True)
class NodeShape:
    name: str
    target_classes: tuple[str, ...]
    rules: tuple[ValueRule, ...]
    properties: tuple[PropertyShape, ...]
    message: str


class Graph:
    """The triples of one expanded JSON-LD document: subject -> predicate -> objects.

    Only what a Workcontext can hold after its structure checks is understood:
    node objects, node references, and values with an optional datatype. Anything
    else (a list, a language tag, a reverse property) is refused, never ignored.
    """

    def __init__(self, expanded: list) -> None:
        self.triples: dict[Term, dict[str, set[Term]]] = {}
        self._fresh = itertools.count()
        for node in expanded:
            self._node(node)

    def fresh_blank(self) -> Term:
        """A blank node no other in this graph is: for a builder that reads a
        document without expanding it (shipped_expansion.py)."""
        return self._blank()

    def objects(self, subject: Term, predicate: str) -> set[Term]:
        return self.triples.get(subject, {}).get(predicate, set())

    def instances_of(self, iri: str) -> list[Term]:
        wanted = ("iri", iri)
        return [s for s, p in self.triples.items() if wanted in p.get(RDF_TYPE, ())]

    def _node(self, node: dict) -> Term:
        if not isinstance(node, dict):
            raise _unsupported("a value that is not an object")
        subject = _reference(node["@id"]) if "@id" in node else self._blank()
        properties = self.triples.setdefault(subject, {})
        for key, values in node.items():
            if key == "@id":
                continue
            if key == "@type":
                properties.setdefault(RDF_TYPE, set()).update(
                    _reference(t) for t in values)
            elif key.startswith("@") or not isinstance(values, list):
                raise _unsupported(key)
            else:
                objects = properties.get(key)
                if objects is None:
                    objects = properties[key] = set()
                for value in values:
                    # Most values are references to IRIs (a skill each): taken
                    # here, as ``_value`` would take them, without its calls.
                    if type(value) is dict and len(value) == 1:
                        identifier = value.get("@id")
                        if type(identifier) is str \
                                and not identifier.startswith("_:"):
                            objects.add(("iri", identifier))
                            continue
                    objects.add(self._value(value))
        return subject

    def _value(self, value: Any) -> Term:
        if type(value) is dict and len(value) == 1 and "@id" in value:
            # A node reference: it states nothing about its node, so the node
            # needs no entry of its own (``objects`` answers none for it).
            return _reference(value["@id"])
        if isinstance(value, dict) and "@value" in value:
            return _literal(value)
        if isinstance(value, dict) and any(k in value for k in ("@list", "@set")):
            raise _unsupported("@list")
        return self._node(value)

    def _blank(self) -> Term:
        return ("blank", f"_:compiled{next(self._fresh)}")


def _reference(identifier: Any) -> Term:
    if not isinstance(identifier, str):
        raise _unsupported("an identifier that is not text")
    if identifier.startswith("_:"):
        return ("blank", identifier)
    return ("iri", identifier)


def _literal(value: dict) -> Term:
    if len(value) > 1 and (len(value) > 2 or "@type" not in value):
        raise _unsupported(", ".join(sorted(set(value) - {"@value", "@type"})))
    raw, datatype = value["@value"], value.get("@type")
    if isinstance(raw, bool):
        return ("literal", "true" if raw else "false", datatype or XSD + "boolean")
    if isinstance(raw, int):
        return ("literal", str(raw), datatype or XSD + "integer")
    if isinstance(raw, str):
        return ("literal", raw, datatype)
    raise _unsupported("a number that is not an integer")


def _unsupported(what: str) -> InvalidDocument:
    return InvalidDocument([f"document uses a JSON-LD feature a Workcontext has no "
                            f"use for ({what})"])


def check(shapes: tuple[NodeShape, ...], expanded: list) -> list[str]:
    """The sorted messages of every failing shape; empty when the document conforms."""
    return check_graph(shapes, Graph(expanded))


def check_graph(shapes: tuple[NodeShape, ...], graph: Graph) -> list[str]:
    """``check`` on the triples of a document already read into ``graph``."""
    messages: set[str] = set()
    for shape in shapes:
        for target in shape.target_classes:
            for focus in graph.instances_of(target):
                messages |= _node_messages(shape, focus, graph)
    return sorted(messages)


def _node_messages(shape: NodeShape, focus: Term, graph: Graph) -> set[str]:
    messages: set[str] = set()
    if not _passes(shape.rules, focus):
        messages.add(shape.message)
    properties = graph.triples.get(focus, {})
    for prop in shape.properties:
        messages |= _property_messages(prop, properties.get(prop.path, _NONE), graph)
    return messages


def _property_messages(prop: PropertyShape, values: set[Term], graph: Graph
                       ) -> set[str]:
    messages: set[str] = set()
    if prop.min_count is not None and len(values) < prop.min_count:
        messages.add(prop.message)
    if prop.max_count is not None and len(values) > prop.max_count:
        messages.add(prop.message)
    rules, nodes = prop.rules, prop.nodes
    if rules:
        # The kept verdicts of these rules, looked up once for all values (the
        # 100 skills a document may name share one tuple of rules).
        verdicts = _verdicts_of(rules)
        for value in values:
            verdict = verdicts.get(value)
            if verdict is None:
                verdict = _judged(rules, verdicts, value)
            if not verdict:
                messages.add(prop.message)
    for value in values if nodes else ():
        for inner in nodes:
            found = _node_messages(inner, value, graph)
            if found:
                messages |= found | {prop.message}
    return messages


def _passes(rules: tuple[ValueRule, ...], term: Term) -> bool:
    """Whether ``term`` passes every rule. A rule reads the term alone (its kind,
    text and datatype, never the graph), so a verdict holds for that term
    wherever it occurs: the verdicts of the latest terms are kept per tuple of
    rules. The same skill IRIs, levels and codes recur in every document, and
    the patterns and lexical checks were a fifth of a document's check."""
    verdicts = _verdicts_of(rules)
    verdict = verdicts.get(term)
    return _judged(rules, verdicts, term) if verdict is None else verdict


def _verdicts_of(rules: tuple[ValueRule, ...]) -> dict[Term, bool]:
    """The verdicts kept for ``rules``: term -> whether it passes them all."""
    entry = _VERDICTS.get(id(rules))
    if entry is None or entry[0] is not rules:
        if len(_VERDICTS) >= _VERDICTS_PER_RULES:
            _VERDICTS.clear()
        entry = _VERDICTS[id(rules)] = (rules, {})
    return entry[1]


def _judged(rules: tuple[ValueRule, ...], verdicts: dict[Term, bool],
            term: Term) -> bool:
    """The verdict on a term ``verdicts`` holds none for, kept there."""
    if len(verdicts) >= _VERDICTS_PER_RULES:
        verdicts.clear()
    verdict = verdicts[term] = _passes_uncached(rules, term)
    return verdict


def _passes_uncached(rules: tuple[ValueRule, ...], term: Term) -> bool:
    """``all``, without a generator per term."""
    for rule in rules:
        if not rule.test(term):
            return False
    return True


# id(rules) -> (rules, {term: verdict}); the rules are held, so an id is not
# reused while its entry stands. Both levels are bounded.
_VERDICTS: dict[int, tuple[tuple[ValueRule, ...], dict[Term, bool]]] = {}
_VERDICTS_PER_RULES = 4096


_NONE: frozenset = frozenset()


# -- value rules --------------------------------------------------------------------
def is_iri(term: Term) -> bool:
    return term[0] == "iri"


def text_of(term: Term) -> str | None:
    """The string SHACL's string-based constraints read: an IRI or a lexical form."""
    return None if term[0] == "blank" else term[1]


def has_datatype(datatype: str) -> Callable[[Term], bool]:
    lexical = _LEXICAL[datatype]

    def test(term: Term) -> bool:
        if term[0] != "literal":
            return False
        declared = term[2] or XSD + "string"
        return declared == datatype and lexical(term[1])

    return test


def numeric_value(term: Term) -> Decimal | None:
    """The number a literal of a numeric datatype stands for; None otherwise."""
    if term[0] != "literal" or term[2] not in _NUMERIC:
        return None
    return Decimal(term[1]) if _LEXICAL[term[2]](term[1]) else None


def _is_date(text: str) -> bool:
    if not _DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text[:10])
    except ValueError:
        return False
    return True


_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
# XSD 1.1 date with an optional time zone; years outside 0001-9999 are not accepted.
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})?")
_LEXICAL: dict[str, Callable[[str], bool]] = {
    XSD + "string": lambda text: True,
    XSD + "integer": lambda text: _INTEGER.fullmatch(text) is not None,
    XSD + "decimal": lambda text: _DECIMAL.fullmatch(text) is not None,
    XSD + "date": _is_date,
}
_NUMERIC = frozenset({XSD + "integer", XSD + "decimal"})
SUPPORTED_DATATYPES = frozenset(_LEXICAL)
