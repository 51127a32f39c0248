"""Read a SHACL shapes graph once and compile it into the checks of shapes_check.py.

The compiler reads the Turtle file, never a copy of its rules: a changed shape
changes the checks. It understands exactly the constructs listed in
shapes_check.py; a shape that uses anything else (``sh:or``, ``sh:closed``,
``sh:flags``, a path that is not one predicate, a datatype it has no lexical rule
for, a shape without ``sh:message``), and any triple that belongs to no shape, makes
it refuse with ShapesNotCompilable: a construct it skipped would pass documents that
pyshacl refuses.

rdflib is imported here only, when the first document is validated: a server that
only streams binaries never loads it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from .errors import ShapesNotCompilable
from .shapes_check import (
    RDF_TYPE,
    SUPPORTED_DATATYPES,
    NodeShape,
    PropertyShape,
    ValueRule,
    has_datatype,
    is_iri,
    numeric_value,
    text_of,
)

SH = "http://www.w3.org/ns/shacl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_VALUE_KEYS = frozenset(SH + k for k in (
    "nodeKind", "datatype", "minInclusive", "maxInclusive", "minLength", "maxLength",
    "pattern", "in"))
_NODE_KEYS = _VALUE_KEYS | {RDF_TYPE, SH + "targetClass", SH + "property",
                            SH + "message"}
_PROPERTY_KEYS = _VALUE_KEYS | {SH + "path", SH + "minCount", SH + "maxCount",
                                SH + "node", SH + "message"}
_REPEATABLE = frozenset({RDF_TYPE, SH + "targetClass", SH + "property", SH + "node"})


def compile_shapes(path: Path) -> tuple[NodeShape, ...]:
    """The node shapes with targets, compiled; ShapesNotCompilable otherwise."""
    import rdflib

    graph = rdflib.Graph().parse(path, format="turtle")
    return _Compiler(graph).run()


class _Compiler:
    def __init__(self, graph: Any) -> None:
        import rdflib

        self._rdflib = rdflib
        self._graph = graph
        self._done: dict[Any, NodeShape] = {}
        self._busy: set[Any] = set()
        self._understood: set[Any] = set()

    def run(self) -> tuple[NodeShape, ...]:
        node_shape = self._rdflib.URIRef(SH + "NodeShape")
        shapes = sorted(self._graph.subjects(self._rdflib.RDF.type, node_shape))
        compiled = [self._node_shape(shape) for shape in shapes]
        stray = set(self._graph.subjects()) - self._understood
        if stray:
            raise ShapesNotCompilable(str(sorted(stray)[0]),
                                      "statements about it belong to no shape")
        return tuple(shape for shape in compiled if shape.target_classes)

    # -- shapes ---------------------------------------------------------------------
    def _node_shape(self, shape: Any) -> NodeShape:
        if shape in self._done:
            return self._done[shape]
        if shape in self._busy:
            raise ShapesNotCompilable(str(shape), "shapes refer to each other in a cycle")
        self._busy.add(shape)
        facts = self._facts(shape, _NODE_KEYS)
        types = {str(t) for t in facts.get(RDF_TYPE, [])}
        if types != {SH + "NodeShape"}:
            raise ShapesNotCompilable(str(shape), "a node shape must be only sh:NodeShape")
        rules = self._value_rules(shape, facts)
        compiled = NodeShape(
            name=str(shape),
            target_classes=tuple(sorted(str(c) for c in facts.get(SH + "targetClass", []))),
            rules=rules,
            properties=tuple(self._property_shape(p)
                             for p in facts.get(SH + "property", [])),
            message=self._message(shape, facts, required=bool(rules)))
        self._busy.discard(shape)
        self._done[shape] = compiled
        return compiled

    def _property_shape(self, shape: Any) -> PropertyShape:
        facts = self._facts(shape, _PROPERTY_KEYS)
        path = self._one(shape, facts, SH + "path")
        if not isinstance(path, self._rdflib.URIRef):
            raise ShapesNotCompilable(str(shape), "sh:path must be one predicate IRI")
        return PropertyShape(
            path=str(path),
            min_count=self._count(shape, facts, SH + "minCount"),
            max_count=self._count(shape, facts, SH + "maxCount"),
            rules=self._value_rules(shape, facts),
            nodes=tuple(self._node_shape(n) for n in facts.get(SH + "node", [])),
            message=self._message(shape, facts, required=True))

    def _facts(self, subject: Any, allowed: frozenset[str]) -> dict[str, list]:
        """Every statement about ``subject``, grouped by predicate; refuses any
        predicate this compiler does not implement, and repeats of single ones."""
        self._understood.add(subject)
        facts: dict[str, list] = {}
        for predicate, value in self._graph.predicate_objects(subject):
            key = str(predicate)
            if key not in allowed:
                raise ShapesNotCompilable(str(subject), f"{key} is not supported")
            facts.setdefault(key, []).append(value)
        for key, values in facts.items():
            if len(values) > 1 and key not in _REPEATABLE:
                raise ShapesNotCompilable(str(subject), f"{key} is given twice")
        return facts

    def _one(self, shape: Any, facts: dict, key: str) -> Any:
        values = facts.get(key)
        if not values:
            raise ShapesNotCompilable(str(shape), f"{key} is required")
        return values[0]

    def _count(self, shape: Any, facts: dict, key: str) -> int | None:
        if key not in facts:
            return None
        return self._natural(shape, facts[key][0], key)

    def _natural(self, shape: Any, value: Any, key: str) -> int:
        number = getattr(value, "value", None)
        if not isinstance(number, int) or isinstance(number, bool) or number < 0:
            raise ShapesNotCompilable(str(shape), f"{key} must be a non-negative integer")
        return number

    def _message(self, shape: Any, facts: dict, required: bool) -> str:
        if SH + "message" not in facts:
            if required:
                raise ShapesNotCompilable(str(shape), "every constraint needs sh:message")
            return ""
        message = facts[SH + "message"][0]
        if not isinstance(message, self._rdflib.Literal) or message.language:
            raise ShapesNotCompilable(str(shape), "sh:message must be one plain text")
        return str(message)

    # -- value constraints ---------------------------------------------------------
    def _value_rules(self, shape: Any, facts: dict) -> tuple[ValueRule, ...]:
        rules = []
        for key in sorted(set(facts) & _VALUE_KEYS):
            name = key.removeprefix(SH)
            rules.append(ValueRule(name, getattr(self, f"_{name}")(shape, facts[key][0])))
        return tuple(rules)

    def _nodeKind(self, shape: Any, kind: Any):  # noqa: N802 (the SHACL name)
        if str(kind) != SH + "IRI":
            raise ShapesNotCompilable(str(shape), f"sh:nodeKind {kind} is not supported")
        return is_iri

    def _datatype(self, shape: Any, datatype: Any):
        if str(datatype) not in SUPPORTED_DATATYPES:
            raise ShapesNotCompilable(str(shape), f"sh:datatype {datatype} is not supported")
        return has_datatype(str(datatype))

    def _minInclusive(self, shape: Any, bound: Any):  # noqa: N802
        limit = self._number(shape, bound)
        return lambda term: (value := numeric_value(term)) is not None and value >= limit

    def _maxInclusive(self, shape: Any, bound: Any):  # noqa: N802
        limit = self._number(shape, bound)
        return lambda term: (value := numeric_value(term)) is not None and value <= limit

    def _minLength(self, shape: Any, bound: Any):  # noqa: N802
        limit = self._natural(shape, bound, "sh:minLength")
        return lambda term: (text := text_of(term)) is not None and len(text) >= limit

    def _maxLength(self, shape: Any, bound: Any):  # noqa: N802
        limit = self._natural(shape, bound, "sh:maxLength")
        return lambda term: (text := text_of(term)) is not None and len(text) <= limit

    def _pattern(self, shape: Any, pattern: Any):
        if not isinstance(pattern, self._rdflib.Literal) or pattern.datatype or \
                pattern.language:
            raise ShapesNotCompilable(str(shape), "sh:pattern must be plain text")
        compiled = re.compile(str(pattern))
        return lambda term: (text := text_of(term)) is not None and \
            compiled.search(text) is not None

    def _in(self, shape: Any, head: Any):
        allowed = frozenset(self._term(shape, item) for item in self._list(shape, head))
        return lambda term: term in allowed

    def _number(self, shape: Any, bound: Any) -> Decimal:
        value = getattr(bound, "value", None)
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            raise ShapesNotCompilable(str(shape), "a bound must be an integer or decimal")
        return Decimal(value)

    def _list(self, shape: Any, head: Any) -> list:
        """The members of an RDF list, each of its nodes marked as understood."""
        rdf_nil = self._rdflib.RDF.nil
        items, node = [], head
        while node != rdf_nil:
            facts = self._facts(node, frozenset({RDF + "first", RDF + "rest"}))
            if set(facts) != {RDF + "first", RDF + "rest"}:
                raise ShapesNotCompilable(str(shape), "sh:in must be a well-formed list")
            items.append(facts[RDF + "first"][0])
            node = facts[RDF + "rest"][0]
        return items

    def _term(self, shape: Any, item: Any) -> tuple:
        if isinstance(item, self._rdflib.URIRef):
            return ("iri", str(item))
        if isinstance(item, self._rdflib.Literal) and not item.language:
            return ("literal", str(item), str(item.datatype) if item.datatype else None)
        raise ShapesNotCompilable(str(shape), "sh:in members must be IRIs or plain literals")
