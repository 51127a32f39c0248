"""The one structure walk answers True only where the three walks it stands in
for find nothing, so the validator refuses, and says why, exactly as without it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from schemas import InvalidDocument, RemoteContextRefused, WorkcontextValidator
from schemas.json_types import json_type_problems, term_kinds
from schemas.jsonld import load_context_terms, unknown_terms
from schemas.structure_walk import plainly_well_formed
from schemas.workcontext import _nested_contexts
from tests.factories import full_workcontext
from tests.schemas.test_shipped_expansion import (
    DID,
    SETTINGS,
    WORKCONTEXT_LIKE,
    documents,
)

TERMS = load_context_terms()
KINDS = term_kinds()
ONE_WALK = WorkcontextValidator()
THREE_WALKS = WorkcontextValidator(one_walk=False)
ANY_DOCUMENT = st.one_of(documents(), WORKCONTEXT_LIKE)


def structure_verdict(validator: WorkcontextValidator, document) -> tuple:
    try:
        validator.check_structure(document, DID)
    except (InvalidDocument, RemoteContextRefused) as exc:
        return type(exc), getattr(exc, "problems", None), getattr(exc, "url", None)
    return ("valid",)


@SETTINGS
@given(ANY_DOCUMENT)
def test_the_structure_check_refuses_and_says_why_as_with_three_walks(document):
    assert structure_verdict(ONE_WALK, document) == \
        structure_verdict(THREE_WALKS, document)


@SETTINGS
@given(ANY_DOCUMENT)
def test_a_plainly_well_formed_document_passes_each_of_the_three_walks(document):
    if plainly_well_formed(document, TERMS, KINDS):
        assert _nested_contexts(document) == []
        assert unknown_terms(document, TERMS) == []
        assert json_type_problems(document, KINDS) == []


def test_the_documents_a_holder_writes_take_the_one_walk():
    assert plainly_well_formed(full_workcontext(DID), TERMS, KINDS)


def test_a_nested_context_an_unknown_key_or_a_value_of_another_kind_is_not_plain():
    document = full_workcontext(DID)
    nested = {**document, "functionLevel": {**document["functionLevel"],
                                            "@context": {}}}
    unknown = {**document, "nickname": "x"}
    text_as_number = {**document, "name": 7}

    for odd in (nested, unknown, text_as_number):
        assert not plainly_well_formed(odd, TERMS, KINDS)
