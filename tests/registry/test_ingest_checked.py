"""The registry's check of a whole Workcontext before a pod saves it: a document
the pod validated with the registry's own validator and reference data is not
walked again; one validated by anything else is checked in full."""

from __future__ import annotations

import pytest

from schemas import InvalidDocument, Validated, WorkcontextValidator
from tests.factories import full_workcontext, holder_key

HOLDER = holder_key(1)


UNKNOWN = "http://data.europa.eu/esco/skill/no-such-skill"


def with_unknown_skill() -> dict:
    return {**full_workcontext(HOLDER.did), "skills": [UNKNOWN]}


def test_a_document_validated_by_the_registrys_own_validator_is_not_walked_again(
        system):
    validated = Validated(with_unknown_skill(), HOLDER.did, system.validator,
                          system.reference)

    system.registry.check_workcontext(validated, HOLDER.did)  # taken as checked


@pytest.mark.parametrize("differs", ["validator", "reference", "holder"])
def test_a_document_validated_by_another_validator_or_for_another_holder_is_checked(
        system, differs):
    validator = WorkcontextValidator() if differs == "validator" else system.validator
    reference = object() if differs == "reference" else system.reference
    holder = holder_key(2).did if differs == "holder" else HOLDER.did
    validated = Validated(with_unknown_skill(), holder, validator, reference)

    with pytest.raises(InvalidDocument, match="no-such-skill is not a known ESCO skill"):
        system.registry.check_workcontext(validated, HOLDER.did)


def test_the_pod_and_the_registry_share_one_validator(system):
    assert system.registry.ingest._validator is system.validator
