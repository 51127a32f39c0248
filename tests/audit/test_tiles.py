"""The tree stored as tiles gives the same roots and proofs as the plain RFC 9162
computation, in particular around tile boundaries (255, 256, 257 and 65,536 +- 1
leaves), in memory and in the log on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import random
from functools import lru_cache

import pytest

from audit import AuditLog
from audit.merkle import (
    MemoryTree,
    consistency_nodes,
    extend,
    inclusion_nodes,
    leaf_hash,
)
from audit.tiles import (
    TILE_BYTES,
    TileCache,
    TileSource,
    changed_tiles,
    expand,
    hashes_needed,
    partial_tiles,
    tiles_for,
    tiles_of,
)
from tests.audit.records import T0, request

BOUNDARY_SIZES = [255, 256, 257, 65_535, 65_536, 65_537]


class Rfc9162:
    """MTH, PATH and PROOF written out as in RFC 9162 2.1.1, 2.1.3.1 and 2.1.4.1,
    over a list of leaf hashes, sharing nothing with audit.merkle."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves
        self.mth = lru_cache(maxsize=None)(self._mth)

    def _mth(self, start: int, end: int) -> bytes:
        n = end - start
        if n == 0:
            return hashlib.sha256(b"").digest()
        if n == 1:
            return self.leaves[start]
        k = 1 << ((n - 1).bit_length() - 1)
        return hashlib.sha256(b"\x01" + self.mth(start, start + k)
                              + self.mth(start + k, end)).digest()

    def path(self, m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = 1 << ((n - 1).bit_length() - 1)
        if m < k:
            return self.path(m, start, start + k) + [self.mth(start + k, end)]
        return self.path(m - k, start + k, end) + [self.mth(start, start + k)]

    def proof(self, m: int, n: int) -> list[bytes]:
        return self._subproof(m, 0, n, True)

    def _subproof(self, m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [self.mth(start, end)]
        k = 1 << ((n - 1).bit_length() - 1)
        if m <= k:
            return self._subproof(m, start, start + k, whole) + [self.mth(start + k,
                                                                          end)]
        return self._subproof(m - k, start + k, end, False) + [self.mth(start,
                                                                        start + k)]


def synthetic_leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def probe_indices(size: int) -> list[int]:
    wanted = {0, 1, 127, 128, 254, 255, 256, 257, 65_535, 65_536, size // 2,
              size - 2, size - 1}
    return sorted(i for i in wanted if 0 <= i < size)


def stored_tiles(tree: MemoryTree) -> dict[tuple[int, int], bytes]:
    return {(level // 8, number): data
            for level in range(0, len(tree.levels), 8)
            for number, data in tiles_of(level, tree.levels[level])}


# --- the tile arithmetic, in memory ---------------------------------------------------


@pytest.mark.parametrize("expanded", [False, True], ids=["raw", "expanded"])
@pytest.mark.parametrize("size", BOUNDARY_SIZES)
def test_every_subtree_hash_a_tile_gives_equals_the_rfc_9162_one(size, expanded):
    leaves = synthetic_leaves(size)
    tree, reference = MemoryTree(), Rfc9162(leaves)
    tree.append(leaves)
    raw = stored_tiles(tree)
    # Expanded: every tile, the partial ones as far as their hashes go.
    full = {key: expand(raw.pop(key)) for key in list(raw) if expanded}
    source = TileSource(raw, full)
    for level in range(min(len(tree.levels), 17)):
        positions = range(size >> level)
        if len(positions) > 600:  # every node near the edges, a sample between
            positions = sorted({*positions[:300], *positions[-300:],
                                *random.Random(level).sample(positions, 100)})
        for position in positions:
            want = reference.mth(position << level, (position + 1) << level)
            assert source(level, position) == want, (level, position)


@pytest.mark.parametrize("size", BOUNDARY_SIZES)
def test_a_tree_has_one_partial_tile_per_level_whose_count_is_not_a_multiple(size):
    keys = partial_tiles(size)
    assert all(size >> (8 * level) & 255 for level, _ in keys)
    assert [level for level, _ in keys] == [
        level for level in range(3) if (size >> (8 * level)) % 256]


@pytest.mark.parametrize("batch", [1, 7, 100, 255, 256, 257, 1000])
def test_appending_in_batches_writes_the_tiles_of_the_whole_tree(batch):
    leaves = synthetic_leaves(70_000)
    stored: dict[tuple[int, int], bytes] = {}
    frontier: list[bytes] = []
    size = 0
    rng = random.Random(batch)
    while size < len(leaves):
        step = min(len(leaves) - size, rng.randint(1, 2 * batch))
        completed: list[tuple[int, int, bytes]] = []
        start = size
        size = extend(frontier, size, leaves[start:size + step], completed)
        partial = {key: stored[key] for key in partial_tiles(start)}
        changed = changed_tiles(start, completed, partial)
        for key, data in changed.items():
            if key in stored:  # only a partial tile is ever rewritten, and grows
                assert len(stored[key]) < TILE_BYTES
                assert data.startswith(stored[key])
            stored[key] = data
    tree = MemoryTree()
    tree.append(leaves)
    assert stored == stored_tiles(tree)


def test_a_partial_tile_of_the_wrong_length_stops_the_append():
    frontier: list[bytes] = []
    extend(frontier, 0, synthetic_leaves(3), [])
    more: list[tuple[int, int, bytes]] = []
    extend(frontier, 3, synthetic_leaves(1), more)
    with pytest.raises(ValueError):
        changed_tiles(3, more, {(0, 0): b"\x00" * 64})


def test_a_proof_of_ten_million_leaves_reads_a_handful_of_tiles():
    size = 10_000_000
    for index in (0, 4_999_999, size - 1):
        assert len(tiles_for(inclusion_nodes(index, size))) <= 6
    assert len(tiles_for(consistency_nodes(3_333_333, size))) <= 8


# --- the log, stored ------------------------------------------------------------------


def grow_to(log: AuditLog, size: int, n: int) -> int:
    """Append requests until the log holds ``size`` records; returns the next
    request number. Requests of 100 records cross tile boundaries mid-request."""
    current = log.head().size
    while current < size:
        k = min(99, size - current - 1)
        current = log.append(request(n, k))[-1] + 1
        n += 1
    assert current == size
    return n


def test_the_stored_log_matches_rfc_9162_across_tile_boundaries(log, engine):
    n, reference, checkpoints = 1, None, {}
    for size in BOUNDARY_SIZES:
        n = grow_to(log, size, n)
        tile = log.tables.tiles
        with engine.connect() as conn:
            data = b"".join(bytes(h) for h in conn.execute(
                tile.select().with_only_columns(tile.c.hashes)
                .where(tile.c.level == 0).order_by(tile.c.number)).scalars())
        leaves = [data[i:i + 32] for i in range(0, len(data), 32)]
        reference = Rfc9162(leaves)
        assert len(leaves) == size
        assert log.head().root_hash == reference.mth(0, size).hex()
        proofs = log.inclusions(probe_indices(size), size)
        for index, proof in proofs.items():
            assert proof.hashes == reference.path(index, 0, size), index
            assert log.inclusion(index).hashes == proof.hashes
        for old in checkpoints:
            assert log.consistency(old, size).hashes == reference.proof(old, size)
        checkpoints[size] = log.checkpoint(T0)
    assert reference is not None
    for size in BOUNDARY_SIZES[:-1]:
        assert log.inclusion(size - 1, size).hashes == reference.path(size - 1, 0,
                                                                      size)
    report = log.verify()
    assert report.ok and report.size == BOUNDARY_SIZES[-1]
    assert report.checkpoints == len(BOUNDARY_SIZES)


# --- the tile cache -------------------------------------------------------------------


def test_the_tile_cache_keeps_to_its_byte_budget_and_the_upper_tiles_to_theirs():
    cache = TileCache(max_bytes=400_000, upper_share=0.25)  # 100,000 upper
    full = bytes(TILE_BYTES)
    upper = [(1, n) for n in range(4)]
    for key in upper:
        cache.add(key, full)
    for number in range(1000):  # a flood of leaf tiles, as random proofs bring
        cache.add((0, number), full)
    assert all(cache.get(key) is not None for key in upper)
    kept = [n for n in range(1000) if cache.get((0, n)) is not None]
    assert kept == list(range(1000 - len(kept), 1000))  # the most recent ones
    assert 0 < len(kept) * sum(map(len, expand(full))) <= 300_000


def test_the_tile_cache_gives_a_partial_tile_only_if_it_holds_enough_hashes():
    cache = TileCache()
    cache.add((0, 7), bytes(32 * 10))
    assert cache.get((0, 7), 10) == expand(bytes(32 * 10))
    assert cache.get((0, 7), 11) is None
    cache.add((0, 7), bytes(32 * 4))  # an older, shorter read keeps the longer one
    assert cache.get((0, 7), 10) is not None
    assert isinstance(cache.add((0, 7), bytes(TILE_BYTES)), tuple)
    assert cache.get((0, 7)) == expand(bytes(TILE_BYTES))


def test_an_expanded_partial_tile_holds_only_the_subtrees_its_hashes_complete():
    leaves = synthetic_leaves(11)
    levels = expand(b"".join(leaves))
    assert [len(level) // 32 for level in levels] == [11, 5, 2, 1, 0, 0, 0, 0]
    source = TileSource({(0, 0): levels})
    reference = Rfc9162(leaves)
    assert source(3, 0) == reference.mth(0, 8)
    assert source(1, 4) == reference.mth(8, 10)
    for missing in ((1, 5), (2, 2), (4, 0)):  # not complete within 11 hashes
        with pytest.raises(KeyError):
            source(*missing)


def test_hashes_needed_counts_from_the_start_of_each_tile():
    assert hashes_needed({(0, 3), (0, 300), (8, 1), (3, 5)}) == {
        (0, 0): 48, (0, 1): 45, (1, 0): 2}
