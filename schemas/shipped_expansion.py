"""JSON-LD expansion of a document that uses the shipped context alone, without pyld.

pyld's expansion (JSON-LD 1.1 Processing Algorithms, section 5.1) was 0.58 ms of
the 1 ms a Workcontext's validation cost on every write: it processes the context,
then walks the document through the general algorithm, which must allow for scoped
contexts, containers, language maps, reverse properties and the rest. A Workcontext
uses none of them. When its one context is the shipped one, named by URL at the
top, and every key is a term of it, each term names one IRI and at most one type
coercion, and expansion is a lookup per key (section 5.1.2 steps 13-14, 5.3.2).

This module does exactly that for a narrow subset and answers None for anything
outside it, so pyld expands those documents as before:

- keys: the aliases of ``@id`` and ``@type``, and terms whose definition holds
  only ``@id``, ``@type`` and an ``@set`` container (``@context`` at the top only);
- ``@id`` values and values of ``@type: @id`` terms: absolute IRIs whose scheme is
  not a term of the context (pyld returns those unchanged; a compact IRI, a blank
  node or a relative reference goes to pyld);
- ``@type`` values: one term or a non-empty list of terms (section 5.2.2 with
  vocab, a term maps to its IRI);
- property values: strings, integers (no booleans, no floats, no null), nested
  node objects of the same subset, and flat arrays of those;
- a top-level node with something besides ``@id`` (pyld drops a lone ``@id``).

tests/schemas/test_shipped_expansion.py holds the result equal to pyld's on
generated documents, inside and outside the subset, and the validator's verdict
equal with and without this path.

``graph`` reads a document of the same subset straight into the triples the
compiled shapes check (shapes_check.Graph), without building the expanded
document first: under PUT load the expansion and then the walk of its output were
two fifths of a Workcontext's validation. It answers exactly where ``expand``
does, with the triples ``Graph(expand(document))`` holds (a test holds them
equal), and None elsewhere.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .jsonld import SHIPPED_CONTEXTS, WORKCONTEXT_CONTEXT_URL
from .shapes_check import RDF_TYPE, XSD, Graph, Term

# pyld's absolute-IRI test, minus its laxer edges (a trailing line feed, a
# scheme starting with "_"): such values are left to pyld.
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+,.-]*:[^\s]*")
_UNDERSTOOD = frozenset({"@id", "@type", "@container"})
_CONTEXT_KEYWORDS = frozenset({"@version", "@protected"})
_ABSOLUTES_KEPT = 8192


class ShippedExpansion:
    """Expands documents of one shipped context by its term table."""

    def __init__(self, url: str = WORKCONTEXT_CONTEXT_URL) -> None:
        context = json.loads(SHIPPED_CONTEXTS[url].read_text(encoding="utf-8"))
        context = context["@context"]
        self._url = url
        self._names = frozenset(k for k in context if not k.startswith("@"))
        self._aliases = {k: v for k, v in context.items() if v in ("@id", "@type")}
        iris = {k: _term_iri(d, context) for k, d in context.items()
                if k in self._names and k not in self._aliases}
        self._types = {k: iri for k, iri in iris.items() if iri is not None}
        self._terms = {k: (iri, _coercion(context[k], context))
                       for k, iri in self._types.items()
                       if _simple(context[k], context)}
        # A context keyword this table does not model (@vocab, @base, @language,
        # ...) changes how every term expands: then nothing is expanded here.
        self._usable = set(context) - self._names <= _CONTEXT_KEYWORDS
        self._absolutes: dict[str, bool] = {}

    def expand(self, document: Any) -> list | None:
        """pyld's expansion of ``document``, or None when it is outside the subset."""
        if not self._usable or type(document) is not dict \
                or document.get("@context") != self._url:
            return None
        node = self._node(document, top=True)
        if node is None or not node.keys() - {"@id"}:
            return None
        return [node]

    def graph(self, document: Any) -> Graph | None:
        """``Graph(self.expand(document))`` (blank node labels included), read
        without the expanded document; None exactly where ``expand`` is None."""
        if not self._usable or type(document) is not dict \
                or document.get("@context") != self._url:
            return None
        graph = Graph([])
        if not _GraphReader(self, graph).top(document):
            return None
        return graph

    def _node(self, node: dict, top: bool = False) -> dict | None:
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "@context" and top:
                continue
            alias = self._aliases.get(key)
            if alias == "@id":
                if not self._absolute(value):
                    return None
                out["@id"] = value
            elif alias == "@type":
                types = self._type_iris(value)
                if types is None:
                    return None
                out["@type"] = types
            else:
                term = self._terms.get(key)
                values = None if term is None or term[0] in out \
                    else self._values(value, *term)
                if values is None:
                    return None
                out[term[0]] = values
        return out

    def _type_iris(self, value: Any) -> list[str] | None:
        types = value if type(value) is list else [value]
        iris = [self._types.get(t) if type(t) is str else None for t in types]
        return iris if iris and None not in iris else None

    def _values(self, value: Any, iri: str, coercion: str | None) -> list | None:
        expanded = []
        for item in value if type(value) is list else [value]:
            kind = type(item)
            if kind is dict:
                one = self._node(item)
            elif kind is str and coercion == "@id":
                one = {"@id": item} if self._absolute(item) else None
            elif kind is str or (kind is int and coercion != "@id"):
                one = {"@value": item} if coercion is None \
                    else {"@value": item, "@type": coercion}
            else:
                one = None
            if one is None:
                return None
            expanded.append(one)
        return expanded

    def _absolute(self, value: Any) -> bool:
        if type(value) is not str:
            return False
        # The answer depends on the text alone; the IRIs of skills, levels and
        # types recur in every document, so the latest answers are kept.
        answer = self._absolutes.get(value)
        if answer is None:
            if len(self._absolutes) >= _ABSOLUTES_KEPT:
                self._absolutes.clear()
            answer = self._absolutes[value] = (
                _ABSOLUTE.fullmatch(value) is not None
                and value.partition(":")[0] not in self._names)
        return answer


class _GraphReader:
    """One document's walk for ``ShippedExpansion.graph``: each step is the one
    ``ShippedExpansion._node`` takes, and each triple the one ``Graph._node``
    adds for its output. Any step ``_node`` would answer None for answers False."""

    def __init__(self, table: ShippedExpansion, graph: Graph) -> None:
        aliases = table._aliases
        self._id_keys = tuple(k for k, v in aliases.items() if v == "@id")
        # One lookup per key: what the key is (an alias) or names (a term).
        self._plan: dict[str, Any] = {**table._terms, **aliases}
        self._type_iris = table._type_iris
        self._absolute = table._absolute
        self._absolutes = table._absolutes  # read only; ``_absolute`` fills it
        self._graph = graph
        self._triples = graph.triples

    def top(self, document: dict) -> bool:
        # The expansion of a top node with nothing besides @id is pyld's to make.
        if not any(key != "@context" and key not in self._id_keys
                   for key in document):
            return False
        return self._node(document, top=True) is not None

    def _node(self, node: dict, top: bool = False) -> Term | None:
        """The node's subject once its triples are in the graph; None to refuse."""
        identifier = None
        for key in self._id_keys:
            if key in node:
                identifier = node[key]
                if not self._absolute(identifier):
                    return None
        if identifier is not None and not top and len(node) == 1:
            return ("iri", identifier)  # a node reference: no node of its own
        subject = ("iri", identifier) if identifier is not None \
            else self._graph.fresh_blank()
        properties = self._triples.setdefault(subject, {})
        plan = self._plan
        seen: set[str] = set()
        for key, value in node.items():
            step = plan.get(key)
            if step is None:
                if key == "@context" and top:
                    continue
                return None
            if step == "@id":
                continue
            if step == "@type":
                types = self._type_iris(value)
                if types is None:
                    return None
                properties.setdefault(RDF_TYPE, set()).update(
                    [("iri", iri) for iri in types])
                continue
            iri, coercion = step
            if iri in seen:
                return None
            seen.add(iri)
            objects = properties.get(iri)
            if objects is None:
                objects = properties[iri] = set()
            if not self._values(value, coercion, objects):
                return None
        return subject

    def _values(self, value: Any, coercion: str | None, objects: set) -> bool:
        known = self._absolutes  # skills: IRIs most of which came before
        for item in value if type(value) is list else [value]:
            kind = type(item)
            if kind is str and coercion == "@id":
                if not (known.get(item) or self._absolute(item)):
                    return False
                one = ("iri", item)
            elif kind is dict:
                one = self._node(item)
            elif kind is str:
                one = ("literal", item, coercion)
            elif kind is int and coercion != "@id":
                one = ("literal", str(item), coercion or _INTEGER)
            else:
                one = None
            if one is None:
                return False
            objects.add(one)
        return True


_INTEGER = XSD + "integer"


def _simple(definition: Any, context: dict) -> bool:
    """A term this table expands: a plain IRI, or @id with an @set container
    and a type coercion to @id or to a datatype it can name."""
    if isinstance(definition, str):
        return True
    return (isinstance(definition, dict) and set(definition) <= _UNDERSTOOD
            and definition.get("@container", "@set") == "@set"
            and ("@type" not in definition
                 or _coercion(definition, context) is not None))


def _term_iri(definition: Any, context: dict) -> str | None:
    iri = definition if isinstance(definition, str) else (
        definition.get("@id") if isinstance(definition, dict) else None)
    return _compact(iri, context) if isinstance(iri, str) else None


def _coercion(definition: Any, context: dict) -> str | None:
    declared = definition.get("@type") if isinstance(definition, dict) else None
    return declared if declared in (None, "@id") else _compact(declared, context)


def _compact(iri: str, context: dict) -> str | None:
    """A compact IRI ``prefix:suffix`` with its prefix a plain term, or an absolute
    IRI; None (the term is not used here) for anything else."""
    prefix, colon, suffix = iri.partition(":")
    if not colon or iri.startswith("@"):
        return None
    target = context.get(prefix)
    if isinstance(target, str) and not target.startswith("@") \
            and not suffix.startswith("//"):
        return target + suffix
    return iri if _ABSOLUTE.fullmatch(iri) and prefix not in context else None
