"""The compiled SHACL checks give pyshacl's verdict and messages on Workcontexts.

pyshacl is the reference: each generated document is expanded once, then checked by
the compiled shapes and by pyshacl on the rdflib graph of the same expansion, and
the two must agree on conformance and on the set of messages. The generator draws
documents that pass the structure checks (known terms, JSON types), since only
those reach SHACL, with values on both sides of every constraint.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import rdflib
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from pyshacl import validate as shacl_validate

from schemas import InvalidDocument, WorkcontextValidator, expand
from schemas.errors import ShapesNotCompilable
from schemas import shapes_check
from schemas.shapes_check import check
from schemas.shapes_compiler import compile_shapes
from schemas.workcontext import SHAPES_FILE
from tests.factories import full_workcontext

DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
VALIDATOR = WorkcontextValidator()
REFERENCE_SHAPES = rdflib.Graph().parse(SHAPES_FILE, format="turtle")


def pyshacl_messages(expanded: list) -> list[str]:
    data = rdflib.Graph().parse(data=json.dumps(expanded), format="json-ld")
    conforms, report, _ = shacl_validate(data, shacl_graph=REFERENCE_SHAPES,
                                         inference="none", allow_warnings=False)
    messages = sorted({str(m) for m in report.objects(None, SH.resultMessage)})
    assert conforms == (not messages)
    return messages


# -- generated Workcontexts ---------------------------------------------------------
def text(lengths: list[int]) -> st.SearchStrategy[str]:
    return st.sampled_from(lengths).map(lambda n: "x" * n)


def one_or_two(values: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(values, st.lists(values, min_size=2, max_size=2))


IRIS = st.sampled_from([
    "https://identifier.overheid.nl/tooi/id/gemeente/gm0344",
    "http://data.europa.eu/esco/occupation/eda0d957-3c3c-4139-b89a-a18bc9e18897",
    "http://data.europa.eu/esco/skill/0005c151-5b5a-4a66-8aac-60e734beb1ab",
    "http://data.europa.eu/esco/skill/00064735-8fad-454b-90c7-ed858cc993f2",
    "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427", "https://example.org/other",
    "relative/path", "_:b1", "_:b2", DID, "did:key:z6Mkother0",
])
DATES = st.sampled_from(["2027-01-01", "2027-06-30", "2027-02-30", "2027-13-01",
                         "1999-12-31", "20270101xx"])
# Decimals as rdflib writes them back: see the test of "1." and "+2.5" below.
DECIMALS = st.sampled_from(["1", "4.5", "5", "5.0", "5.5", "0.9", "3.25", "abc",
                            "-1", "0", "10"])
IDS = st.sampled_from([DID, "_:n1", "_:n2", "https://example.org/node"])


def optional(members: dict) -> st.SearchStrategy[dict]:
    """An object with any subset of the members."""
    return st.fixed_dictionaries({}, optional=members)


FUNCTION_LEVELS = optional({
    "type": st.sampled_from(["FunctionLevel", "Person"]),
    "id": IDS,
    "levelSystem": one_or_two(st.sampled_from(["HR21", "FGR", "overig", "CAO"])),
    "levelCode": text([0, 3, 40, 41]),
    "levelName": one_or_two(text([0, 1, 12, 120, 121])),
    "levelRank": one_or_two(st.integers(-1, 7)),
    "salaryScale": st.integers(0, 19),
})
PERIODS = optional({"startDate": one_or_two(DATES), "endDate": one_or_two(DATES),
                    "id": IDS})
AVAILABILITIES = optional({
    "type": st.just("Availability"),
    "hoursPerWeek": one_or_two(st.integers(-1, 41)),
    "period": one_or_two(PERIODS),
})
VIDEOS = optional({
    "type": st.just("VideoObject"),
    "contentUrl": one_or_two(IRIS),
    "encodingFormat": one_or_two(st.sampled_from(["video/mp4", "video/webm",
                                                  "image/png"])),
})
RATINGS = optional({
    "type": st.just("RatingSummary"),
    "ratingCount": one_or_two(st.integers(-1, 10001)),
    "averageScore": one_or_two(DECIMALS),
})
SKILL_LISTS = st.one_of(
    st.lists(IRIS, max_size=4),
    st.sampled_from([99, 100, 101]).map(
        lambda n: [f"http://data.europa.eu/esco/skill/s{i}" for i in range(n)]))
WORKCONTEXTS = st.fixed_dictionaries(
    {"@context": st.just(full_workcontext(DID)["@context"]),
     "type": st.just("Person")},
    optional={
        "id": st.sampled_from([DID, "did:key:zQ3other", "_:me", "relative"]),
        "name": one_or_two(text([0, 1, 10, 200, 201])),
        "email": one_or_two(st.sampled_from(["jan@example.nl", "jan@", "a b@c.d",
                                             "x@y.z"])),
        "telephone": one_or_two(st.sampled_from(["+31 6 12345678", "12345",
                                                 "(030) 123-456", "phone"])),
        "worksFor": one_or_two(IRIS),
        "hasOccupation": one_or_two(IRIS),
        "skills": SKILL_LISTS,
        "fieldOfWork": one_or_two(st.sampled_from(["beleid", "beheer", "sport"])),
        "functionLevel": one_or_two(FUNCTION_LEVELS),
        "availability": one_or_two(AVAILABILITIES),
        "introVideo": one_or_two(VIDEOS),
        "ratingSummary": one_or_two(RATINGS),
    })


def structurally_valid(document: dict) -> bool:
    try:
        VALIDATOR.check_structure(document)
    except InvalidDocument:
        return False
    return True


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(WORKCONTEXTS.filter(structurally_valid))
def test_compiled_shapes_agree_with_pyshacl_on_generated_workcontexts(document):
    expanded = expand(document, VALIDATOR.loader)

    assert check(VALIDATOR.shapes, expanded) == pyshacl_messages(expanded)


@st.composite
def one_field_changed(draw) -> dict:
    """Mostly valid documents: the full example with one field redrawn or removed."""
    field = draw(st.sampled_from(["functionLevel", "availability", "introVideo",
                                  "ratingSummary", "name", "skills", "worksFor"]))
    document = full_workcontext(DID)
    drawn = draw(WORKCONTEXTS)
    if field in drawn:
        document[field] = drawn[field]
    else:
        document.pop(field, None)
    return document


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(one_field_changed().filter(structurally_valid))
def test_compiled_shapes_agree_with_pyshacl_on_one_changed_field_of_a_valid_workcontext(
        document):
    expanded = expand(document, VALIDATOR.loader)

    assert check(VALIDATOR.shapes, expanded) == pyshacl_messages(expanded)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.lists(one_field_changed().filter(structurally_valid), min_size=2,
                max_size=4))
def test_verdicts_kept_from_earlier_documents_equal_verdicts_made_afresh(documents):
    expanded = [expand(document, VALIDATOR.loader) for document in documents]
    warm = [check(VALIDATOR.shapes, one) for one in expanded]

    fresh = []
    for one in expanded:
        shapes_check._VERDICTS.clear()
        fresh.append(check(VALIDATOR.shapes, one))

    assert warm == fresh


def test_the_kept_verdicts_stay_bounded(monkeypatch):
    monkeypatch.setattr(shapes_check, "_VERDICTS", {})
    monkeypatch.setattr(shapes_check, "_VERDICTS_PER_RULES", 3)
    document = full_workcontext(DID)
    expanded = expand(document, VALIDATOR.loader)
    availability = {**document["availability"], "hoursPerWeek": 500}
    invalid = expand({**document, "availability": availability}, VALIDATOR.loader)

    verdicts = [check(VALIDATOR.shapes, one) for one in (expanded, invalid, expanded)]

    assert verdicts[0] == verdicts[2] == [] and verdicts[1]
    assert all(len(kept) <= 3 for _, kept in shapes_check._VERDICTS.values())


def test_the_full_example_conforms_to_both():
    expanded = expand(full_workcontext(DID), VALIDATOR.loader)

    assert check(VALIDATOR.shapes, expanded) == [] == pyshacl_messages(expanded)


def test_the_generator_draws_both_conforming_and_failing_documents():
    """The equivalence tests above would prove little if every draw failed."""
    def conforms(document: dict) -> bool:
        return not check(VALIDATOR.shapes, expand(document, VALIDATOR.loader))

    quick = settings(database=None, max_examples=500)
    changed = one_field_changed().filter(structurally_valid)

    assert conforms(find(changed, conforms, settings=quick))
    assert not conforms(find(changed, lambda d: not conforms(d), settings=quick))


@pytest.mark.parametrize("score", ["1.", "+2.5", "04.5"])
def test_a_decimal_not_written_as_the_pattern_asks_is_refused_though_pyshacl_passes_it(
        score):
    """The one known difference, on the strict side: sh:pattern reads the lexical
    form as written (SHACL 1.0 section 4.4.3), while rdflib rewrites the lexical form
    of a typed literal ("1." becomes "1") before pyshacl sees it."""
    document = full_workcontext(DID)
    document["ratingSummary"]["averageScore"] = score
    expanded = expand(document, VALIDATOR.loader)

    assert pyshacl_messages(expanded) == []
    assert check(VALIDATOR.shapes, expanded) == [
        "ratingSummary must be one rating summary",
        'ratingSummary.averageScore must be a decimal text from "1" to "5" with at '
        'most one decimal (signed documents hold no floats)']


# -- what the compiler refuses ------------------------------------------------------
PREFIXES = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix schema: <https://schema.org/> .
@prefix ex: <https://example.org/> .
"""
SHAPE = """ex:S a sh:NodeShape ; sh:targetClass schema:Person ;
    sh:property [ sh:path schema:name ; sh:minCount 1 ; sh:message "m" {extra} ] .
"""


@pytest.mark.parametrize("extra, reason", [
    ('; sh:or ( [ sh:datatype xsd:string ] )', "shacl#or is not supported"),
    ('; sh:pattern "a" ; sh:flags "i"', "shacl#flags is not supported"),
    ('; sh:datatype xsd:boolean', "is not supported"),
    ('; sh:nodeKind sh:BlankNode', "is not supported"),
    ('; sh:class schema:Thing', "shacl#class is not supported"),
    ('; sh:severity sh:Warning', "shacl#severity is not supported"),
    ('; sh:in ( "a"@nl )', "plain literals"),
    ('; sh:maxCount 1 ; sh:maxCount 2', "is given twice"),
])
def test_the_compiler_refuses_a_construct_it_does_not_implement(tmp_path, extra, reason):
    path = tmp_path / "shapes.ttl"
    path.write_text(PREFIXES + SHAPE.format(extra=extra))

    with pytest.raises(ShapesNotCompilable, match=reason):
        compile_shapes(path)


@pytest.mark.parametrize("turtle, reason", [
    ("ex:S a sh:NodeShape ; sh:targetClass schema:Person ; sh:closed true .",
     "closed is not supported"),
    ("ex:S a sh:NodeShape ; sh:targetNode ex:x .", "targetNode is not supported"),
    ("ex:S a sh:NodeShape, rdfs:Class ; sh:nodeKind sh:IRI ; sh:message \"m\" .",
     "only sh:NodeShape"),
    ("ex:S a sh:NodeShape ; sh:targetClass schema:Person ; sh:property [ sh:path "
     "( schema:a schema:b ) ; sh:minCount 1 ; sh:message \"m\" ] .",
     "one predicate IRI"),
    ("ex:S a sh:NodeShape ; sh:targetClass schema:Person ; sh:property [ sh:path "
     "schema:name ; sh:minCount 1 ] .", "needs sh:message"),
    ("ex:S a sh:NodeShape ; sh:targetClass schema:Person ; sh:nodeKind sh:IRI .",
     "needs sh:message"),
    ("ex:S a sh:NodeShape ; sh:targetClass schema:Person ; sh:property [ sh:path "
     "schema:x ; sh:node ex:S ; sh:message \"m\" ] .", "cycle"),
    ("ex:S a sh:NodeShape ; sh:targetClass schema:Person . ex:T sh:property "
     "[ sh:path schema:name ; sh:minCount 1 ; sh:message \"m\" ] .", "belong to no shape"),
])
def test_the_compiler_refuses_shapes_it_cannot_follow(tmp_path, turtle, reason):
    path = tmp_path / "shapes.ttl"
    path.write_text(PREFIXES + "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
                    + turtle)

    with pytest.raises(ShapesNotCompilable, match=reason):
        compile_shapes(path)


def test_the_shipped_shapes_compile_with_one_targeted_shape():
    shapes = compile_shapes(SHAPES_FILE)

    assert [s.target_classes for s in shapes] == [("https://schema.org/Person",)]


def test_a_validator_loads_no_rdflib_pyshacl_or_pyld_before_its_first_document():
    code = ("import sys; from schemas import WorkcontextValidator; "
            "WorkcontextValidator(); "
            "print(sorted(m for m in ('rdflib', 'pyshacl', 'pyld') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2]).stdout

    assert out.strip() == "[]"
