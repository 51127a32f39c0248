"""The shipped context's term table expands exactly as pyld does, and the validator
accepts and refuses exactly what it did with pyld alone.

Generated documents reach well outside a Workcontext: unknown and dropped terms,
keywords as keys, wrong JSON types, nested objects and contexts, compact IRIs,
blank nodes, relative references, odd whitespace and over-long values. Where the
table answers, its expansion must equal pyld's; where it does not, pyld decides.
"""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import (
    WORKCONTEXT_CONTEXT_URL,
    InvalidDocument,
    RemoteContextRefused,
    ShippedContextLoader,
    WorkcontextValidator,
    expand,
)
from schemas.jsonld import SHIPPED_CONTEXTS, load_context_terms
from schemas.shapes_check import Graph
from schemas.shipped_expansion import ShippedExpansion
from tests.factories import full_workcontext
from tests.schemas.test_shapes_check import WORKCONTEXTS, one_field_changed

DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
TABLE = ShippedExpansion()
LOADER = ShippedContextLoader()
FAST = WorkcontextValidator()
PYLD_ONLY = WorkcontextValidator(shipped_expansion=False)
EXPANDED_FIRST = WorkcontextValidator(direct_graph=False)
SETTINGS = settings(max_examples=400, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

TERMS = st.sampled_from(sorted(load_context_terms()))
ODD_KEYS = st.sampled_from([
    "nickname", "Name", "@id", "@type", "@value", "@context", "@list", "@graph",
    "@foo", "_:b", "schema:name", "https://schema.org/name", ""])
TEXTS = st.one_of(st.sampled_from([
    DID, "did:key:z6Mkother", "https://identifier.overheid.nl/tooi/id/gemeente/gm0344",
    "http://data.europa.eu/esco/skill/0005c151-5b5a-4a66-8aac-60e734beb1ab",
    "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427", "schema:name", "esco:skill/x",
    "vg:x", "xsd:date", "name:x", "id:x", "type:x", "Person", "FunctionLevel", "name",
    "id", "type", "schema", "_:b1", "relative/path", "", "@id", "@foo", "@type",
    "http://a b", "http://a\n", "http://a\u2003b", "a,b:c", "1a:b", "-a:b", "x:",
    "mailto:jan@example.nl", "2027-01-01", "2027-13-01", "4.5", "beleid", "HR21",
    "x" * 2001, "é:x", "http://ex.org/ü", "schema://x", "_:", "A+.-:x", "urn:a b",
    "urn:x\n", "urn:x\u00a0y",
]), st.text(max_size=12))
TYPES = st.sampled_from(["Person", "FunctionLevel", "Availability", "name", "skills",
                         "schema", "id", "type", "urn:x", "schema:Thing", "Thing", ""])
# Values a term table can expand, and types it knows.
ABSOLUTE = st.sampled_from([
    DID, "https://identifier.overheid.nl/tooi/id/gemeente/gm0344",
    "http://data.europa.eu/esco/skill/0005c151-5b5a-4a66-8aac-60e734beb1ab",
    "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427", "mailto:jan@example.nl",
    "A+.-:x", "a,b:c", "x:", "http://a b", "https://ex.org/ü"])
KNOWN_TYPES = st.sampled_from(["Person", "FunctionLevel", "Availability",
                               "VideoObject", "name", "skills", "schema"])
# What may stand where an IRI goes: compact IRIs, terms as schemes, blank nodes,
# relative references, keywords, whitespace, and a few absolute IRIs.
IRI_LIKE = st.sampled_from([
    "schema:name", "esco:skill/x", "vg:x", "xsd:date", "name:x", "id:x", "type:x",
    "schema://x", "Person", "name", "_:b1", "_:", "relative/path", "", "#x",
    "@id", "@foo", "urn:a b", "urn:x\n", "urn:x\u00a0y", "http://a\n", "é:x",
    "1a:b", "-a:b", "x:", DID, "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427"])
PLAIN = st.one_of(TEXTS, st.integers(-(2**60), 2**60))
ODD_VALUES = st.one_of(st.booleans(), st.none(),
                       st.floats(allow_nan=False, allow_infinity=False),
                       st.lists(st.lists(PLAIN, max_size=2), min_size=1, max_size=2),
                       st.builds(list), st.builds(dict))  # fresh each time
OTHER_CONTEXTS = st.sampled_from([
    None, [WORKCONTEXT_CONTEXT_URL], "https://example.org/context.jsonld",
    {"name": "schema:name"}])
_DEFINITIONS = json.loads(SHIPPED_CONTEXTS[WORKCONTEXT_CONTEXT_URL].read_text())
ID_TERMS = frozenset(t for t, d in _DEFINITIONS["@context"].items()
                     if isinstance(d, dict) and d.get("@type") == "@id")


def one_or_more(values: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(values, st.lists(values, max_size=3))


def among(usual: st.SearchStrategy, odd: st.SearchStrategy) -> st.SearchStrategy:
    """One odd value, alone or at any place in a list of usual ones."""
    return st.one_of(odd, st.tuples(st.lists(usual, max_size=2), odd, st.integers(0, 2))
                     .map(lambda t: [*t[0][:t[2]], t[1], *t[0][t[2]:]]))


def draw_node(draw, depth: int) -> dict:
    """Terms with values a term table expands, nested at most three levels."""
    node = {}
    for term in draw(st.lists(TERMS, max_size=6, unique=True)):
        if term == "id":
            node[term] = draw(ABSOLUTE)
        elif term == "type":
            node[term] = draw(st.one_of(KNOWN_TYPES,
                                        st.lists(KNOWN_TYPES, min_size=1, max_size=3)))
        elif term in ID_TERMS:
            node[term] = draw(one_or_more(ABSOLUTE))
        elif depth < 3 and draw(st.booleans()):
            node[term] = [draw_node(draw, depth + 1)
                          for _ in range(draw(st.integers(0, 2)))] \
                if draw(st.booleans()) else draw_node(draw, depth + 1)
        else:
            node[term] = draw(one_or_more(PLAIN))
    return node


def nodes_of(node: dict) -> list[dict]:
    found = [node]
    for value in node.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict):
                found += nodes_of(item)
    return found


@st.composite
def documents(draw) -> dict:
    """A document of the shipped context's terms, with up to two twists that may
    take it out of what a term table covers: an odd key, a nested context, or an
    odd value (a compact IRI, a blank node, a relative reference, a keyword, an
    unknown or empty type, a boolean, null, a float, a nested array), at any
    depth."""
    document = draw_node(draw, 0)
    for _ in range(draw(st.sampled_from([0, 0, 1, 2]))):
        target = draw(st.sampled_from(nodes_of(document)))
        twist = draw(st.sampled_from(["key", "value", "iri", "type", "context"]))
        if twist == "context":
            context = draw(st.sampled_from([
                WORKCONTEXT_CONTEXT_URL, {"name": "schema:email"}, {}, None]))
            # A copy: a shared dict could become a node, then its own value.
            target["@context"] = dict(context) if isinstance(context, dict) else context
        elif twist == "key":
            target[draw(ODD_KEYS)] = draw(PLAIN)
        elif twist == "value":
            term = draw(st.one_of(TERMS, st.sampled_from(sorted(ID_TERMS))))
            target[term] = draw(ODD_VALUES)
        elif twist == "iri":
            term = draw(st.sampled_from(sorted(ID_TERMS | {"id"})))
            target[term] = draw(IRI_LIKE if term == "id" else among(ABSOLUTE, IRI_LIKE))
        else:
            target["type"] = draw(st.one_of(among(KNOWN_TYPES, TYPES), st.builds(list)))
    context = draw(st.one_of(st.just(WORKCONTEXT_CONTEXT_URL), OTHER_CONTEXTS))
    if context is not None:
        document["@context"] = copy.deepcopy(context)
    return document


WORKCONTEXT_LIKE = st.one_of(WORKCONTEXTS, one_field_changed())


def pyld_expansion(document):
    """pyld's expansion, or the error it raises."""
    try:
        return expand(document, LOADER)
    except (InvalidDocument, RemoteContextRefused) as exc:
        return exc


def verdict(validator: WorkcontextValidator, document) -> tuple:
    try:
        validator.validate(document, holder_id=DID)
    except (InvalidDocument, RemoteContextRefused) as exc:
        return type(exc), getattr(exc, "problems", None), getattr(exc, "url", None)
    return ("valid",)


@SETTINGS
@given(documents())
def test_the_term_table_expands_as_pyld_wherever_it_answers(document):
    expanded = TABLE.expand(document)

    if expanded is not None:
        assert expanded == pyld_expansion(document)


@SETTINGS
@given(WORKCONTEXT_LIKE)
def test_the_term_table_expands_generated_workcontexts_as_pyld(document):
    expanded = TABLE.expand(document)

    if expanded is not None:
        assert expanded == pyld_expansion(document)


@SETTINGS
@given(st.one_of(documents(), WORKCONTEXT_LIKE))
def test_the_validator_accepts_and_refuses_as_with_pyld_alone(document):
    assert verdict(FAST, document) == verdict(PYLD_ONLY, document)


@SETTINGS
@given(st.one_of(documents(), WORKCONTEXT_LIKE))
def test_the_table_reads_the_triples_of_its_expansion_exactly_where_it_expands(
        document):
    graph = TABLE.graph(document)
    expanded = TABLE.expand(document)

    assert (graph is None) == (expanded is None)
    if graph is not None:
        assert graph.triples == Graph(expanded).triples


@SETTINGS
@given(st.one_of(documents(), WORKCONTEXT_LIKE))
def test_the_validator_accepts_and_refuses_as_when_it_expanded_first(document):
    assert verdict(FAST, document) == verdict(EXPANDED_FIRST, document)


@pytest.mark.parametrize("document", [
    {"@context": WORKCONTEXT_CONTEXT_URL, "id": DID, "type": "Person",
     "functionLevel": {"id": DID}},                   # a node reference
    {"@context": WORKCONTEXT_CONTEXT_URL, "id": DID, "type": "Person",
     "functionLevel": {"id": DID, "levelName": "x"}},  # merged into the holder
    {"@context": WORKCONTEXT_CONTEXT_URL, "id": DID, "type": "Person",
     "functionLevel": [{}, {}], "skills": []},        # two blank nodes, no skill
    {"@context": WORKCONTEXT_CONTEXT_URL, "type": "Person", "name": "Jan"},
])
def test_the_table_reads_nodes_and_references_as_the_expansion_does(document):
    assert TABLE.graph(document).triples == Graph(TABLE.expand(document)).triples


def test_the_table_answers_for_the_documents_a_holder_writes():
    document = full_workcontext(DID)

    assert TABLE.expand(document) == expand(document, LOADER)
    assert TABLE.graph(document) is not None
    assert verdict(FAST, document) == ("valid",)


@pytest.mark.parametrize("member, value", [
    ("id", "_:me"),                       # a blank node
    ("id", "relative"),                   # resolved against the base by pyld
    ("worksFor", "schema:Organization"),  # a compact IRI
    ("worksFor", "name:x"),               # a term as scheme
    ("hasOccupation", "http://a\n"),      # pyld's pattern takes a trailing newline
    ("type", []),                         # pyld drops an empty type
    ("type", ["Person", "id"]),           # a keyword alias as a type
    ("name", True),
    ("name", None),
    ("name", 1.5),
    ("nickname", "Jan"),                  # dropped by pyld
    ("functionLevel", {"@context": {"levelName": "schema:name"}}),
])
def test_a_document_outside_the_table_is_left_to_pyld(member, value):
    document = {**full_workcontext(DID), member: value}

    assert TABLE.expand(document) is None
    assert TABLE.graph(document) is None


@pytest.mark.parametrize("context", [
    [WORKCONTEXT_CONTEXT_URL], {"name": "schema:name"}, "https://example.org/c"])
def test_a_document_with_any_other_context_is_left_to_pyld(context):
    assert TABLE.expand({**full_workcontext(DID), "@context": context}) is None
    assert TABLE.graph({**full_workcontext(DID), "@context": context}) is None


def test_a_top_level_node_of_only_an_id_is_left_to_pyld():
    assert TABLE.expand({"@context": WORKCONTEXT_CONTEXT_URL, "id": DID}) is None
    assert TABLE.graph({"@context": WORKCONTEXT_CONTEXT_URL, "id": DID}) is None
