"""The entries of one request built at once equal those built one by one, and are
refused where the constructor would refuse them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import AuditEntry, InvalidAuditEntry, entries_per_subject
from tests.audit.records import T0
from tests.audit.test_log import hex_ids, texts

SHARED = dict(
    trace_id="4bf92f3577b34da6a3ce929d0e0e4736", parent_span_id="00f067aa0ba902b7",
    name="assignment-candidates", started_at=T0, ended_at=T0,
    processing_activity="https://vg.example/rvva/matching/v1", organisation="GM0363",
    purpose="matching", outcome="disclosed", reason="candidate for assignment 7")

subjects_strategy = st.lists(st.tuples(
    hex_ids(16), texts, st.lists(texts, max_size=4).map(tuple),
    st.lists(texts, max_size=3) | st.lists(texts, max_size=3).map(tuple)),
    max_size=12)


def one_by_one(subjects: list, **shared: object) -> list[AuditEntry]:
    return [AuditEntry(span_id=span, subject=subject, fields=fields, grants=grants,
                       **shared)  # type: ignore[arg-type]
            for span, subject, fields, grants in subjects]


@settings(max_examples=200, deadline=None)
@given(subjects=subjects_strategy, repeats=st.lists(st.integers(0, 11), max_size=6))
def test_entries_per_subject_equal_the_entries_built_one_by_one(subjects, repeats):
    # Repeated subjects share their fields' tuples: each must still be its own.
    batch = subjects + [subjects[i] for i in repeats if i < len(subjects)]
    built = entries_per_subject(batch, **SHARED)
    expected = one_by_one(batch, **SHARED)
    assert built == expected
    assert [e.canonical_bytes() for e in built] == [
        e.canonical_bytes() for e in expected]
    assert all(type(e) is AuditEntry for e in built)


@pytest.mark.parametrize("field, value", [
    ("span_id", "00000000000000000"), ("span_id", "0000000000000000"),
    ("span_id", "ABCDEF0123456789"), ("subject", ""), ("subject", "psn\x00"),
    ("fields", "skills"), ("fields", ("skills", "")), ("grants", ("\ud800",)),
])
def test_a_bad_value_of_any_later_subject_is_refused_as_the_constructor_refuses_it(
        field, value):
    good = ("00f067aa0ba902b8", "psn-1", ("level", "skills"), ("urn:uuid:g1",))
    bad = dict(zip(("span_id", "subject", "fields", "grants"), good))
    bad[field] = value
    with pytest.raises(InvalidAuditEntry) as constructed:
        AuditEntry(**bad, **SHARED)  # type: ignore[arg-type]
    with pytest.raises(InvalidAuditEntry) as batched:
        entries_per_subject([good, tuple(bad.values())], **SHARED)
    assert batched.value.args == constructed.value.args


@pytest.mark.parametrize("field, value", [
    ("trace_id", "0" * 32), ("name", ""), ("started_at", T0.replace(tzinfo=None)),
    ("outcome", "shown"), ("reason", "\x00"),
])
def test_a_bad_shared_value_is_refused_even_when_the_first_subject_is_fine(
        field, value):
    subjects = [("00f067aa0ba902b8", "psn-1", ("skills",), ("urn:uuid:g1",))] * 2
    with pytest.raises(InvalidAuditEntry):
        entries_per_subject(subjects, **{**SHARED, field: value})


def test_no_subjects_give_no_entries():
    assert entries_per_subject([], **SHARED) == []
