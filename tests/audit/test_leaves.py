"""The append's encoder gives each record the row ``verify`` reads back and the leaf
hash of its canonical bytes, for any valid record, alone or among others that
share its values."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import AccessRecord, AuditEntry
from audit.leaves import MEMBER_WIDTH, leaf_rows
from audit.merkle import leaf_hash
from audit.tables import record_row
from tests.audit.records import access, entry, request
from tests.audit.test_log import access_strategy, entries_strategy


def encoded(records: list) -> tuple[list, list, list[bytes]]:
    """``leaf_rows`` with its runs of entries written out as whole rows."""
    runs, accesses, leaves = leaf_rows(records)
    return [row for run in runs for row in run.rows()], accesses, leaves


def expected(records: list) -> tuple[list, list, list[bytes]]:
    rows = {AuditEntry: [], AccessRecord: []}
    for offset, record in enumerate(records):
        rows[type(record)].append([offset, *record_row(record).values()])
    return (rows[AuditEntry], rows[AccessRecord],
            [leaf_hash(record.canonical_bytes()) for record in records])


@settings(max_examples=300, deadline=None)
@given(records=st.lists(entries_strategy | access_strategy, max_size=6),
       repeats=st.lists(st.integers(min_value=0, max_value=5), max_size=6))
def test_any_valid_records_get_their_own_rows_and_leaf_hashes(records, repeats):
    # Records repeated and interleaved: values shared between them are converted
    # once per call, and each record must still get exactly its own encoding.
    batch = records + [records[i] for i in repeats if i < len(records)]
    assert encoded(batch) == expected(batch)


def test_a_request_s_rows_are_split_by_table_in_order_with_their_offsets():
    batch = [*request(7, 3), entry(8, parent_span_id=None), access(9)]
    entries, accesses, leaves = encoded(batch)
    assert [row[0] for row in entries] == [1, 2, 3, 4]
    assert [row[0] for row in accesses] == [0, 5]
    assert (entries, accesses, leaves) == expected(batch)
    assert len(set(leaves)) == len(batch)


def test_a_request_s_entries_make_one_run_and_an_access_record_ends_a_run():
    batch = [*request(7, 3), *request(7, 2)[1:], entry(8, 1), access(9), entry(8, 2)]
    runs, _accesses, _leaves = leaf_rows(batch)
    assert [run.members[0::MEMBER_WIDTH] for run in runs] == [[1, 2, 3, 4, 5], [6], [8]]
    assert [run.rows(100)[0][0] for run in runs] == [101, 106, 108]
    assert encoded(batch) == expected(batch)


def test_a_page_s_entries_on_their_own_fields_and_grants_make_one_run():
    # As the gate records a page: each candidate shown on its own grant.
    page = [access(7, subjects=3), *(
        entry(7, i, fields=("skills", "level")[:1 + i % 2], grants=(f"grant-{i}",))
        for i in range(3))]
    runs, _accesses, _leaves = leaf_rows(page)
    assert [run.members[0::MEMBER_WIDTH] for run in runs] == [[1, 2, 3]]
    assert encoded(page) == expected(page)


@pytest.mark.parametrize("field, value", [("trace_id", 'a"b'), ("outcome", "x\\y"),
                                          ("span_id", "\n")])
def test_a_value_changed_behind_the_record_s_checks_is_still_escaped(field, value):
    record = entry(3) if field != "span_id" else access(3)
    object.__setattr__(record, field, value)
    assert leaf_rows([record])[2] == [leaf_hash(record.canonical_bytes())]


def test_anything_but_a_record_is_refused():
    with pytest.raises(TypeError):
        leaf_rows([entry(1), {"actor": "x"}])  # type: ignore[list-item]


def test_entries_that_share_all_but_one_value_each_get_their_own_encoding():
    # The encoder writes the text around span_id and subject once per set of shared
    # values: an entry that differs from the others in any one value must not
    # get their pieces.
    base = entry(5, 0)
    changes = [
        {"trace_id": "ab" * 16}, {"parent_span_id": None},
        {"parent_span_id": "cd" * 8}, {"name": "other"},
        {"started_at": base.started_at - timedelta(milliseconds=1)},
        {"ended_at": base.ended_at + timedelta(milliseconds=1)},
        {"processing_activity": "https://vg.example/rvva/contact/v1"},
        {"organisation": "GM0599"}, {"purpose": "contact"},
        {"subject_type": "other-type"}, {"fields": ("level",)},
        {"grants": ("grant-x", "grant-y")}, {"outcome": "refused"},
        {"status": "ok"}, {"reason": 'with "quotes" and 100%s'},
        {"span_id": "ef" * 8}, {"subject": "psn-other"}]
    batch = [base, *(entry(5, 0, **change) for change in changes), base]
    assert encoded(batch) == expected(batch)
    assert len(set(leaf_rows(batch)[2])) == len(batch) - 1
