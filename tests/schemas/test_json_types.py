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
