"""Every full tile keeps its node hashes (the seven tree levels above its
hashes): the append writes the ones the tile's hashes give, a proof reads them
instead of hashing, and ``verify`` reports a node hash that was changed, removed
or added, naming where."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from audit import AuditLog, tiles
from audit.merkle import grow, leaf_hash, verify_inclusion
from audit.tiles import (
    NODES_BYTES,
    TILE_BYTES,
    expand,
    full_tile_nodes,
    grown_tiles,
    inner_nodes,
    partial_tiles,
    stored_levels,
)
from tests.audit.conftest import SIGNER
from tests.audit.records import request
from tests.audit.test_tiles import synthetic_leaves


def appended_in_batches(hashes: list[bytes], batch: int, shift: int = 0):
    """Grow a tree by ``hashes`` in random batches of about ``batch``; per append
    the size before, its growth and the tiles it changed. With ``shift`` the
    hashes stand for tree level ``shift`` (a multiple of 8), so the tiles above
    the leaves are built without growing the millions of leaves under them."""
    frontier: list[bytes] = []
    stored: dict[tiles.TileKey, bytes] = {}
    size, rng = 0, random.Random(batch)
    while size < len(hashes):
        step = min(len(hashes) - size, rng.randint(1, 2 * batch))
        start = size
        size, grown = grow(frontier, size, hashes[start:size + step])
        grown = {level + shift: data for level, data in grown.items()}
        partial = {(key[0] + shift // 8, key[1]): stored[key[0] + shift // 8, key[1]]
                   for key in partial_tiles(start)}
        changed = grown_tiles(start << shift, grown, partial)
        stored.update(changed)
        yield start << shift, grown, changed


@pytest.mark.parametrize("batch", [1, 7, 100, 255, 256, 257, 1000, 5000])
def test_the_node_hashes_an_append_writes_are_the_ones_its_full_tiles_give(batch):
    full = 0
    for size, grown, changed in appended_in_batches(synthetic_leaves(70_000), batch):
        for key, data in changed.items():
            if len(data) == TILE_BYTES:
                full += 1
                assert full_tile_nodes(size, grown, key, data) == inner_nodes(data)
    assert full == 70_000 // 256 + 1  # and tile 1/0: 273 hashes above the leaves


@pytest.mark.parametrize("batch", [3, 300])
def test_the_node_hashes_of_a_tile_above_the_leaves_are_the_ones_it_gives(batch):
    level_8 = synthetic_leaves(700)  # as if 179,200 leaves were under them
    full = [(size, grown, key, data)
            for size, grown, changed in appended_in_batches(level_8, batch, shift=8)
            for key, data in changed.items() if len(data) == TILE_BYTES]
    assert [key for _, _, key, _ in full] == [(1, 0), (1, 1)]
    for size, grown, key, data in full:
        assert full_tile_nodes(size, grown, key, data) == inner_nodes(data)


def test_a_full_tile_with_its_node_hashes_is_read_without_hashing(monkeypatch):
    data = b"".join(synthetic_leaves(256))
    nodes, want = inner_nodes(data), expand(data)
    assert len(nodes) == NODES_BYTES

    def no_hashing(_data: bytes) -> bytes:
        raise AssertionError("hashed")

    monkeypatch.setattr(tiles, "_parents", no_hashing)
    assert stored_levels(data, nodes) == want


def test_a_tile_without_node_hashes_of_the_right_length_is_expanded():
    data = b"".join(synthetic_leaves(256))
    assert stored_levels(data, None) == expand(data)
    assert stored_levels(data, inner_nodes(data)[:-32]) == expand(data)
    assert stored_levels(data[:-32], inner_nodes(data)) == expand(data[:-32])
    with pytest.raises(ValueError):
        inner_nodes(data[:-32])


# --- the log, stored ------------------------------------------------------------------


def filled_to(log: AuditLog, requests: int) -> list:
    records = []
    for n in range(1, requests + 1):
        batch = request(n, 59)  # 60 records: tiles complete mid-request
        assert log.append(batch)[0] == len(records)
        records += batch
    return records


def stored_tiles(engine, tables) -> dict[tiles.TileKey, tuple[bytes, bytes | None]]:
    t = tables.tiles
    with engine.connect() as conn:
        return {(level, number): (bytes(data), None if nodes is None else bytes(nodes))
                for level, number, data, nodes in conn.execute(
                    select(t.c.level, t.c.number, t.c.hashes, t.c.nodes))}


def test_every_full_tile_in_the_log_holds_its_node_hashes_and_no_partial_one(
        log, engine, tables):
    filled_to(log, 10)  # 600 records: tiles 0/0 and 0/1 full, 0/2 partial
    stored = stored_tiles(engine, tables)
    assert sorted(stored) == [(0, 0), (0, 1), (0, 2), (1, 0)]
    for key, (data, nodes) in stored.items():
        if len(data) == TILE_BYTES:
            assert nodes == inner_nodes(data), key
        else:
            assert nodes is None, key
    assert log.verify().ok


def test_a_proof_from_a_fresh_process_hashes_no_full_tile(
        log, engine, prefix, monkeypatch):
    records = filled_to(log, 10)
    root = bytes.fromhex(log.head().root_hash)
    hashed: list[int] = []
    real = tiles._parents

    def parents(data: bytes) -> bytes:
        hashed.append(len(data))
        return real(data)

    monkeypatch.setattr(tiles, "_parents", parents)
    fresh = AuditLog(engine, prefix=prefix, signer=SIGNER)
    for index in (0, 300, 511, 599):
        verify_inclusion(index, 600, leaf_hash(records[index].canonical_bytes()),
                         fresh.inclusion(index, 600).hashes, root)
    assert hashed  # the partial tiles (0/2 and 1/0) are expanded
    assert TILE_BYTES not in hashed


def _set_nodes(engine, tables, key: tiles.TileKey, nodes: bytes | None) -> None:
    t = tables.tiles
    with engine.begin() as conn:
        conn.execute(t.update().where(t.c.level == key[0], t.c.number == key[1])
                     .values(nodes=nodes))


@pytest.mark.parametrize("rest, offset", [(1, 0), (3, 5), (7, 1)])
def test_a_changed_node_hash_fails_verification_naming_its_place(
        log, engine, tables, rest, offset):
    filled_to(log, 10)
    data, nodes = stored_tiles(engine, tables)[(0, 1)]
    start = sum(tiles.WIDTH >> r for r in range(1, rest)) + offset
    forged = bytearray(nodes)
    forged[start * 32] ^= 1
    _set_nodes(engine, tables, (0, 1), bytes(forged))

    report = log.verify()

    position = (256 >> rest) + offset  # tile 0/1 starts at leaf 256
    assert not report.ok
    assert report.problem == (f"the stored node hash at level {rest}, position "
                              f"{position} (tile 0/1) is wrong")
    assert report.first_bad_index == position << rest
    _set_nodes(engine, tables, (0, 1), nodes)
    assert log.verify().ok


def test_node_hashes_removed_from_a_full_tile_fail_verification(log, engine, tables):
    filled_to(log, 10)
    _set_nodes(engine, tables, (0, 0), None)
    report = log.verify()
    assert not report.ok and report.first_bad_index == 0
    assert report.problem == "tile 0/0 has no node hashes"


@pytest.mark.parametrize("cut, position", [(-32, 3), (32, 4)])
def test_node_hashes_cut_short_or_grown_fail_verification(
        log, engine, tables, cut, position):
    filled_to(log, 10)
    _, nodes = stored_tiles(engine, tables)[(0, 1)]
    _set_nodes(engine, tables, (0, 1), nodes[:cut] if cut < 0 else nodes + bytes(cut))
    report = log.verify()
    assert not report.ok
    assert report.problem == (f"the stored node hash at level 7, position "
                              f"{position} (tile 0/1) is wrong")


def test_node_hashes_added_to_a_partial_tile_fail_verification(log, engine, tables):
    filled_to(log, 10)
    _set_nodes(engine, tables, (0, 2), bytes(NODES_BYTES))
    report = log.verify()
    assert not report.ok and report.first_bad_index == 512
    assert report.problem == "partial tile 0/2 has node hashes"
