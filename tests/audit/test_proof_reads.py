"""A proof reads what it lacks in one statement, whose text is one of a few, with
the head in the same round trip; on PostgreSQL on connections of the log's own
whose statements are prepared once and planned once."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from audit import proof_reads
from audit.proof_reads import chunks, padded, parse
from tests.audit.conftest import POSTGRES_URL
from tests.audit.records import filled

postgres_only = pytest.mark.parametrize("backend", [pytest.param(
    "postgres", marks=[pytest.mark.postgres, pytest.mark.skipif(
        not POSTGRES_URL, reason="VG_TEST_POSTGRES_URL not set")])])


def test_key_counts_round_up_to_a_power_of_two():
    assert [padded(n) for n in (1, 2, 3, 4, 5, 8, 9, 200, 256)] == [
        1, 2, 4, 4, 8, 8, 16, 256, 256]


def test_keys_are_read_sorted_padded_with_a_key_no_tile_has_and_split_past_the_maximum():
    assert chunks([(1, 0), (0, 7), (0, 3), (0, 7)]) == [(4, [0, 3, 0, 7, 1, 0, -2, 0])]
    many = [(0, n) for n in range(proof_reads.MAX_KEYS + 3)]
    parts = chunks(many)
    assert [count for count, _ in parts] == [proof_reads.MAX_KEYS, 4]
    assert parts[1][1] == [0, 256, 0, 257, 0, 258, -2, 0]


def test_a_padded_statement_reads_each_tile_once(log):
    filled(log, 20, 30)  # 620 leaves: three leaf tiles and a tile above them
    keys = [(0, 0), (0, 1), (1, 0)]  # three keys: a statement of four
    (count, params), = chunks(keys)
    sql = proof_reads.statement(log.tables.tiles.name, log.tables.head.name, count,
                                postgres=log.engine.dialect.name == "postgresql")
    with log.engine.connect() as conn:
        rows = conn.exec_driver_sql(sql, tuple(params)).fetchall()
    assert sorted((level, number) for level, number, _, _ in rows) == [
        (-1, log.head().size), *keys]
    nodes = {(level, number): inner for level, number, _, inner in rows}
    assert nodes[(0, 0)] is not None and nodes[(0, 1)] is not None  # full
    assert nodes[(1, 0)] is None and nodes[(-1, log.head().size)] is None


def _reads(monkeypatch, log) -> list:
    seen: list = []
    real = log._read_for_proof
    monkeypatch.setattr(log, "_read_for_proof",
                        lambda keys: seen.append(sorted(keys)) or real(keys))
    return seen


def test_a_proof_reads_the_store_once_or_not_at_all(log, monkeypatch):
    filled(log, 20, 30)  # 620 leaves: three leaf tiles and a tile above them
    size = log.head().size
    seen = _reads(monkeypatch, log)
    log.inclusion(3, size)
    assert len(seen) == 1  # the leaf's tile and the partial ones, with the head
    log.inclusion(3, size)
    log.inclusion(100, size)
    assert len(seen) == 1  # all cached
    log.inclusion(300, size)
    assert seen[1:] == [[(0, 1)]]  # the right edge comes from the head now


def test_many_tiles_are_read_by_several_statements_with_the_same_result(
        log, monkeypatch):
    filled(log, 30, 40)  # 1,230 leaves: five leaf tiles
    size = log.head().size
    single = {i: log.inclusion(i, size).hashes for i in (0, 300, 600, 900, 1200)}
    monkeypatch.setattr(proof_reads, "MAX_KEYS", 2)
    fresh = type(log)(log.engine, prefix=log.tables.tiles.name.removesuffix("_tiles"))
    together = fresh.inclusions(list(single), size)
    assert {i: p.hashes for i, p in together.items()} == single


@postgres_only
def test_on_postgresql_a_proof_s_statement_is_prepared_and_planned_once(log, backend):
    filled(log, 20, 30)
    size = log.head().size
    for index in range(0, size, 7):  # one, two and more keys per statement
        log._tile_cache = type(log._tile_cache)()
        log.inclusion(index, size)
    conn = log._postgres_reader._idle[0]
    rows = conn.execute("SELECT statement, generic_plans, custom_plans "
                        "FROM pg_prepared_statements").fetchall()
    assert 1 <= len(rows) <= 4  # texts for 1, 2, 4 and 8 keys at most
    assert all(log.tables.tiles.name in statement for statement, _, _ in rows)
    # Planned once each, generically, from the first execution on.
    assert sum(c for _, _, c in rows) == 0
    assert sum(g for _, g, _ in rows) > 5 * len(rows)


@postgres_only
def test_on_postgresql_a_proof_connection_the_server_closed_is_replaced(
        log, engine, backend):
    filled(log, 3, 2)
    size = log.head().size
    expected = log.inclusion(2, size).hashes
    (conn,) = log._postgres_reader._idle
    with engine.connect() as other:
        other.execute(text("SELECT pg_terminate_backend(:pid)"),
                      {"pid": conn.info.backend_pid})
    time.sleep(0.2)  # the server's goodbye reaches the socket
    log._tile_cache = type(log._tile_cache)()
    assert log.inclusion(2, size).hashes == expected
    assert conn.closed and log._postgres_reader._idle[0] is not conn


@postgres_only
def test_on_postgresql_disposing_the_engine_closes_the_proof_connections(
        log, engine, backend):
    filled(log, 3, 2)
    log.inclusion(2, log.head().size)
    (conn,) = log._postgres_reader._idle
    engine.dispose()
    assert conn.closed and log._postgres_reader._idle == []


def test_of_several_statements_the_smallest_head_counts():
    frontier = (b"\x01" * 32).hex()
    rows = [(-1, 3, frontier, None), (0, 0, b"a" * 96, None),
            (-1, 2, (b"\x02" * 32).hex(), None)]
    read = parse(rows)
    assert (read.size, read.frontier, read.tiles) == (2, [b"\x02" * 32],
                                                      {(0, 0): b"a" * 96})
