"""JSON value types of the Workcontext terms, checked before JSON-LD."""

from __future__ import annotations

import pytest

from schemas import InvalidDocument, WorkcontextValidator
from tests.factories import full_workcontext

DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"


@pytest.mark.parametrize("value", ["2027-W01-1", "2027-001-01", "2027-1-011",
                                   "2027-02-30", "27-01-2027"])
def test_a_date_outside_the_xsd_form_yyyy_mm_dd_is_refused(value):
    document = full_workcontext(DID)
    document["availability"]["period"]["startDate"] = value

    with pytest.raises(InvalidDocument, match="startDate must be a date"):
        WorkcontextValidator().check_structure(document, DID)


def test_a_date_in_the_form_yyyy_mm_dd_passes():
    document = full_workcontext(DID)
    document["availability"]["period"]["startDate"] = "2028-02-29"

    WorkcontextValidator().check_structure(document, DID)


class _Text(str):
    pass


def _mutations():
    """Documents that break one rule of the structure checks each (and one that
    breaks none), at the top level and below it."""
    values = [None, True, 1, 2**40, "x", "x" * 2001, "2027-02-30", "2027-01-01",
              " ", "\u200b",
              [], [1], [[1]], {}, {"type": "Person"}, {"@context": "x"},
              {"@context": "https://example.org/other"}, {"unknownTerm": 1},
              _Text("x"), [{"levelRank": True}]]
    keys = ["name", "skills", "levelRank", "startDate", "functionLevel", "period",
            "availability", "unknownTerm", "@context", "type", "id"]
    places = [(), ("functionLevel",), ("availability",), ("availability", "period")]
    yield full_workcontext(DID)
    for place in places:
        for key in keys:
            for value in values:
                document = full_workcontext(DID)
                node = document
                for step in place:
                    node = node[step]
                node[key] = value
                yield document


def _outcome(check, document):
    try:
        check(document)
    except Exception as exc:  # the outcome compared: which error, which problems
        return type(exc).__name__, str(exc), getattr(exc, "problems", None)
    return None


def test_the_one_walk_passes_only_what_the_three_walks_pass():
    from schemas.json_types import json_type_problems
    from schemas.structure_walk import plainly_well_formed
    from schemas.jsonld import unknown_terms
    from schemas.workcontext import _nested_contexts

    validator = WorkcontextValidator()
    terms, kinds = validator._terms, validator._kinds
    passed = 0
    for document in _mutations():
        if plainly_well_formed(document, terms, kinds):
            passed += 1
            assert not _nested_contexts(document)
            assert not unknown_terms(document, terms)
            assert not json_type_problems(document, kinds)
    assert passed > 1  # the unchanged document and the harmless changes


def test_check_structure_refuses_each_document_as_the_three_walks_refuse_it(
        monkeypatch):
    import schemas.workcontext as workcontext

    validator = WorkcontextValidator()
    fast = [_outcome(lambda d: validator.check_structure(d, DID), document)
            for document in _mutations()]
    monkeypatch.setattr(workcontext, "plainly_well_formed", lambda *args: False)
    slow = [_outcome(lambda d: validator.check_structure(d, DID), document)
            for document in _mutations()]

    assert fast == slow and fast.count(None) > 1


@pytest.mark.parametrize("name, value", [("startDate", "0001-01-01"),
                                         ("startDate", "1999-12-31"),
                                         ("endDate", "2100-01-01"),
                                         ("endDate", "9999-12-31")])
def test_an_availability_date_outside_2000_to_2099_is_refused(name, value):
    document = full_workcontext(DID)
    document["availability"]["period"][name] = value

    with pytest.raises(InvalidDocument, match=f"{name} must be .*2000"):
        WorkcontextValidator().validate(document, DID)


@pytest.mark.parametrize("address", ["javascript:alert(1)", "data:text/html,x",
                                     "file:///etc/passwd", "urn:x:video"])
def test_an_intro_video_address_that_is_not_http_or_https_is_refused(address):
    document = full_workcontext(DID)
    document["introVideo"] = {"type": "VideoObject", "contentUrl": address,
                              "encodingFormat": "video/mp4"}

    with pytest.raises(InvalidDocument) as refused:
        WorkcontextValidator().validate(document, DID)

    assert any(p.startswith("introVideo.contentUrl") for p in refused.value.problems)


def test_an_intro_video_at_an_https_address_passes():
    document = full_workcontext(DID)
    document["introVideo"] = {"type": "VideoObject",
                              "contentUrl": "https://video.example.nl/intro.mp4",
                              "encodingFormat": "video/mp4"}

    WorkcontextValidator().validate(document, DID)


@pytest.mark.parametrize("identifier", [DID, DID + "#level", "https://example.org/x"])
@pytest.mark.parametrize("place", [("functionLevel",), ("availability", "period"),
                                   ("introVideo",)])
def test_a_nested_node_with_an_identifier_is_refused_naming_it(place, identifier):
    document = full_workcontext(DID)
    node = document
    for step in place:
        node = node[step]
    node["id"] = identifier

    with pytest.raises(InvalidDocument) as refused:
        WorkcontextValidator().check_structure(document, DID)

    assert any(p.startswith(".".join(place) + ".id") for p in refused.value.problems)
