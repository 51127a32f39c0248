"""The field catalogue names each field as what it is."""

from __future__ import annotations

from schemas import FIELDS


def test_the_rating_summary_is_labelled_as_the_holders_own_statement():
    field = FIELDS["rating_summary"]

    assert "verklaring van de houder" in field.label_nl
    assert "stated by the holder" in field.label_en
