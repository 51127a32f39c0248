"""A stored value that was changed so far that it can no longer be read (a frontier
that is no hex, a root of the wrong length, a list nested past the parser) is
tampering with the log: verification reports it, naming what it found, rather than
saying that the database could not be reached."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from tests.audit.records import T0, filled, request


def _problem(log) -> str:
    report = log.verify()
    assert not report.ok, report
    return report.problem


def test_a_head_frontier_that_is_no_hex_is_reported_as_the_head_s(log, engine,
                                                                  tables):
    filled(log, 4, 1)
    with engine.begin() as conn:
        conn.execute(update(tables.head).values(frontier="[]"))

    assert "the head's frontier" in _problem(log)


def test_a_head_frontier_of_another_length_is_reported_as_the_head_s(log, engine,
                                                                     tables):
    filled(log, 4, 1)
    with engine.begin() as conn:
        frontier = conn.execute(select(tables.head.c.frontier)).scalar_one()
        conn.execute(update(tables.head).values(frontier=frontier + "ab" * 32))

    assert "the head's frontier" in _problem(log)


def test_an_unchanged_frontier_verifies_after_every_append(log):
    for n in range(1, 9):
        log.append(request(n, n % 3))
        report = log.verify()
        assert report.ok, (n, report)


def test_a_checkpoint_row_whose_root_is_no_hash_names_its_size(log, engine, tables):
    filled(log, 4, 1)
    log.checkpoint(T0)
    log.append(request(5, 1))
    log.checkpoint(T0)
    checkpoints = tables.checkpoints
    with engine.begin() as conn:
        first = conn.execute(select(checkpoints.c.size).order_by(
            checkpoints.c.size)).scalars().first()
        conn.execute(update(checkpoints).where(checkpoints.c.size == first)
                     .values(root_hash="not a hash"))

    assert f"checkpoint of size {first}" in _problem(log)


def test_a_list_nested_past_the_parser_is_reported_as_a_malformed_entry(
        log, engine, tables):
    filled(log, 3, 1)
    nested = "[" * 100_000 + "]" * 100_000
    with engine.begin() as conn:
        conn.execute(update(tables.entries).where(tables.entries.c.idx == 1)
                     .values(fields=nested))

    report = log.verify()

    assert not report.ok and report.first_bad_index == 1, report


def test_a_head_count_that_is_no_number_is_reported_as_the_head_s(log, engine,
                                                                  tables, backend):
    if backend != "sqlite":
        pytest.skip("only SQLite stores a text in a column of numbers")
    filled(log, 2, 1)
    with engine.begin() as conn:
        conn.execute(update(tables.head).values(pruned="x"))

    report = log.verify()

    assert not report.ok and report.pruned == 0, report
    assert "the head" in report.problem
