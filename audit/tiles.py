"""The Merkle tree stored as tiles, in the layout of c2sp.org/tlog-tiles (height 8).

A tile at tile level ``t`` and number ``n`` holds the hashes of tree level ``8 * t``
at positions ``256 * n`` up to ``256 * n + 255``, concatenated (32 bytes each). A
full tile never changes again; only the rightmost tile of each tile level is
partial, and an append rewrites it whole. Each full tile also keeps its node
hashes: the seven tree levels above its hashes and below the next tile level
(128, 64, ... 2 hashes, ``NODES_BYTES``), concatenated level by level, which the
append that completes the tile has mostly computed already (``full_tile_nodes``).
A proof reads a leaf's path from them instead of hashing 255 nodes per tile; a
partial tile has none, and the perfect subtrees inside it are recomputed when a
proof needs them (``TileSource``). A proof trusts a stored node hash as it trusts a
stored hash: a changed one gives a proof that does not verify against a signed
checkpoint, and ``verify`` names it. A tree of ten million leaves has three tile
levels, so any proof reads at most a handful of tiles, in one query.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping

from audit.merkle import HASH_SIZE

HEIGHT = 8
WIDTH = 1 << HEIGHT
TILE_BYTES = WIDTH * HASH_SIZE
NODES_BYTES = (WIDTH - 2) * HASH_SIZE  # tree levels 1 to 7 of a full tile

TileKey = tuple[int, int]  # (tile level, tile number)
Cached = tuple[bytes, ...]  # a tile's levels, as ``expand`` gives them


def hashes_at(size: int, tile_level: int) -> int:
    """How many hashes tile level ``tile_level`` holds in a tree of ``size`` leaves."""
    return size >> (HEIGHT * tile_level)


def tile_count(size: int, tile_level: int) -> int:
    """How many tiles (full and partial) tile level ``tile_level`` has."""
    return -(-hashes_at(size, tile_level) // WIDTH)


def partial_tiles(size: int) -> list[TileKey]:
    """The partial tile of every tile level of a tree of ``size`` leaves: the ones
    the next append extends and therefore reads first."""
    keys: list[TileKey] = []
    tile_level = 0
    while hashes_at(size, tile_level):
        count = hashes_at(size, tile_level)
        if count % WIDTH:
            keys.append((tile_level, count // WIDTH))
        tile_level += 1
    return keys


def changed_tiles(size: int, completed: Iterable[tuple[int, int, bytes]],
                  partial: Mapping[TileKey, bytes]) -> dict[TileKey, bytes]:
    """``grown_tiles`` of the ``(level, position, hash)`` that ``merkle.extend``
    produced."""
    grown: dict[int, list[bytes]] = {}
    for level, _position, node in completed:
        grown.setdefault(level, []).append(node)
    return grown_tiles(size, {level: b"".join(hashes)
                              for level, hashes in grown.items()}, partial)


def grown_tiles(size: int, grown: Mapping[int, bytes],
                partial: Mapping[TileKey, bytes]) -> dict[TileKey, bytes]:
    """The new contents of every tile an append touches. ``size`` is the tree size
    before the append, ``grown`` the new hashes per tree level, concatenated
    (``merkle.grow``), ``partial`` the stored partial tiles of ``size``.
    Raises ``ValueError`` if a stored partial tile does not have the length the
    size implies (the store was changed behind the log's back)."""
    out: dict[TileKey, bytes] = {}
    for level, hashes in grown.items():
        if level % HEIGHT:
            continue
        tile_level = level // HEIGHT
        first = hashes_at(size, tile_level)
        number, offset = divmod(first, WIDTH)
        stored = partial.get((tile_level, number), b"") if offset else b""
        if len(stored) != offset * HASH_SIZE:
            raise ValueError(f"tile {tile_level}/{number} has {len(stored)} bytes, "
                             f"not {offset * HASH_SIZE}")
        data = stored + hashes
        for start in range(0, len(data), TILE_BYTES):
            out[(tile_level, number + start // TILE_BYTES)] = (
                data[start:start + TILE_BYTES])
    return out


def tiles_of(level: int, hashes: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """``(number, contents)`` of the tiles that hold ``hashes``, the hashes of tree
    level ``level`` (a multiple of 8) from position 0, in order."""
    if level % HEIGHT:
        raise ValueError("only every eighth tree level is stored")
    chunk: list[bytes] = []
    number = 0
    for node in hashes:
        chunk.append(node)
        if len(chunk) == WIDTH:
            yield number, b"".join(chunk)
            chunk, number = [], number + 1
    if chunk:
        yield number, b"".join(chunk)


def tiles_for(nodes: Iterable[tuple[int, int]]) -> set[TileKey]:
    """The tiles that hold (or give) the subtree hashes ``(level, position)``."""
    keys: set[TileKey] = set()
    for level, position in nodes:
        tile_level, rest = divmod(level, HEIGHT)
        keys.add((tile_level, (position << rest) // WIDTH))
    return keys


def subtree_root(data: bytes) -> bytes:
    """The root of the perfect subtree whose hashes are concatenated in ``data``
    (a power of two of them; RFC 9162 2.1.1)."""
    while len(data) > HASH_SIZE:
        data = _parents(data)
    return data


def expand(data: bytes) -> tuple[bytes, ...]:
    """The eight tree levels a tile gives: its hashes, then each level of node
    hashes above them, concatenated per level. A full tile gives 256, 128, ... 2
    hashes; a partial one of ``c`` hashes gives ``c >> k`` at level ``k``: the
    perfect subtrees it already holds, which no later append changes."""
    levels = [data]
    for _ in range(HEIGHT - 1):
        data = _parents(data[:len(data) - len(data) % (2 * HASH_SIZE)])
        levels.append(data)
    return tuple(levels)


def inner_nodes(data: bytes) -> bytes:
    """The node hashes of the full tile ``data``: its tree levels 1 to 7 (see
    ``expand``), concatenated, ``NODES_BYTES`` of them."""
    if len(data) != TILE_BYTES:
        raise ValueError("only a full tile has node hashes")
    return b"".join(expand(data)[1:])


def full_tile_nodes(size: int, grown: Mapping[int, bytes], key: TileKey,
                    data: bytes) -> bytes:
    """``inner_nodes`` of the tile ``key``, full with contents ``data`` after an
    append to the tree of ``size`` leaves that grew it by ``grown`` (per tree
    level, as ``merkle.grow`` gives it). The nodes that append completed are
    taken from ``grown``; only those over the tile's hashes stored before it
    (the perfect subtrees of its partial tile) are hashed again."""
    tile_level, number = key
    before = min(WIDTH, max(0, hashes_at(size, tile_level) - number * WIDTH))
    earlier = expand(data[:before * HASH_SIZE])
    parts = []
    for rest in range(1, HEIGHT):
        level, count = tile_level * HEIGHT + rest, WIDTH >> rest
        # grown[level] starts at position size >> level: where ``earlier``
        # ends if the tile held hashes before, else at or before the tile.
        skip = ((number * WIDTH) >> rest) + len(earlier[rest]) // HASH_SIZE - (
            size >> level)
        new = grown.get(level, b"")[skip * HASH_SIZE:]
        part = earlier[rest] + new[:count * HASH_SIZE - len(earlier[rest])]
        if skip < 0 or len(part) != count * HASH_SIZE:
            raise ValueError(f"the append did not complete tile {tile_level}/"
                             f"{number}")
        parts.append(part)
    return b"".join(parts)


def stored_levels(data: bytes, nodes: bytes | None) -> Cached:
    """A tile's levels (as ``expand`` gives them) from its stored hashes and, for
    a full tile, its stored node hashes (``inner_nodes``), without hashing. A
    tile without node hashes of the right length (a partial one) is expanded."""
    if nodes is None or len(data) != TILE_BYTES or len(nodes) != NODES_BYTES:
        return expand(data)
    levels, start = [data], 0
    for rest in range(1, HEIGHT):
        end = start + (WIDTH >> rest) * HASH_SIZE
        levels.append(nodes[start:end])
        start = end
    return tuple(levels)


def first_wrong_node(data: bytes, nodes: bytes | None) -> tuple[int, int] | None:
    """For ``verify``: where the stored ``nodes`` of the tile whose hashes are
    ``data`` first differ from the ones those hashes give, as ``(tree level
    within the tile, position within that level)``: a hash changed or missing,
    or the first place past the last level if there are more; ``(0, 0)`` if a
    full tile has none or a partial one has some; None if they agree."""
    if len(data) != TILE_BYTES:
        return None if nodes is None else (0, 0)
    if nodes is None:
        return (0, 0)
    start = 0
    for rest, want in enumerate(expand(data)[1:], start=1):
        got = nodes[start:start + len(want)]
        for offset in range(0, len(want), HASH_SIZE):
            if got[offset:offset + HASH_SIZE] != want[offset:offset + HASH_SIZE]:
                return (rest, offset // HASH_SIZE)
        start += len(want)
    return None if len(nodes) == NODES_BYTES else (HEIGHT - 1, WIDTH >> (HEIGHT - 1))


def _parents(data: bytes) -> bytes:
    """The node hashes over adjacent pairs of the hashes in ``data`` (an even
    number of them), SHA-256(0x01 || left || right) each: a copy of a hash
    state that has taken the 0x01, given the pair. Copying a state cost less
    than starting one per node, and far less than hashing slices of one framed
    buffer (measured with the hashlib of Python 3.11 over OpenSSL 3)."""
    copy = _NODE_PREFIX.copy
    out = []
    for i in range(0, len(data), 2 * HASH_SIZE):
        node = copy()
        node.update(data[i:i + 2 * HASH_SIZE])
        out.append(node.digest())
    return b"".join(out)


_NODE_PREFIX = hashlib.sha256(b"\x01")


def hashes_needed(nodes: Iterable[tuple[int, int]]) -> dict[TileKey, int]:
    """For each tile that holds (or gives) the subtree hashes ``(level, position)``,
    how many of its hashes, from its first, those nodes need."""
    needed: dict[TileKey, int] = {}
    for level, position in nodes:
        tile_level, rest = divmod(level, HEIGHT)
        number, offset = divmod(position << rest, WIDTH)
        end = offset + (1 << rest)
        key = (tile_level, number)
        if needed.get(key, 0) < end:
            needed[key] = end
    return needed


class TileCache:
    """Tiles read earlier, kept by the proofs of one process (shared by its
    threads), least recently used evicted first, bounded in bytes.

    A stored hash never changes: it is the root of a perfect subtree, so once
    written it stays what it is (RFC 9162 2.1.1), and an append only adds hashes to
    the end of a partial tile. So every tile is kept expanded (``expand``): a full
    one whole, a partial one as far as the hashes it held when read go, so the
    perfect subtrees inside it are hashed once, not by every proof. A proof that
    needs hashes beyond those reads the tile again (``hashes_needed``). ``verify``
    never reads from here (it trusts no stored hash).

    Level-0 tiles (one per 256 leaves: 39,000 at ten million) and the tiles above
    them (one per 65,536 leaves, needed by every proof) have budgets of their own,
    so a stream of proofs of random leaves never evicts the upper tiles every
    proof shares. An expanded full tile takes 16,320 bytes: the default 64 MiB
    keeps the upper levels of a tree of a billion leaves and some 3,000 leaf
    tiles.

    A full tile read with its node hashes (``stored_levels``) is kept as read,
    hashing nothing; one without them (a partial tile, or one read by a query
    that does not fetch them) is expanded: 255 SHA-256 for a full tile, some
    0.15 to 0.25 ms of CPU here, which was half a proof's CPU on PostgreSQL
    before the node hashes were stored."""

    def __init__(self, max_bytes: int = 64 << 20, upper_share: float = 0.25) -> None:
        if max_bytes < 0 or not 0 < upper_share < 1:
            raise ValueError("max_bytes >= 0 and 0 < upper_share < 1")
        upper = int(max_bytes * upper_share)
        self._parts = (_Lru(max_bytes - upper), _Lru(upper))
        self._lock = threading.Lock()

    def get(self, key: TileKey, hashes: int = WIDTH) -> Cached | None:
        """The cached tile ``key`` if it holds at least ``hashes`` hashes."""
        with self._lock:
            found = self._parts[key[0] > 0].get(key)
        if found is None or len(found[0]) < hashes * HASH_SIZE:
            return None
        return found

    def add(self, key: TileKey, data: bytes, nodes: bytes | None = None) -> Cached:
        """Keep a tile as read from the store, with its node hashes if it has
        them; returns its levels (``stored_levels``), which is what a proof
        uses."""
        kept = stored_levels(data, nodes)
        with self._lock:
            part = self._parts[key[0] > 0]
            old = part.get(key)
            if old is None or len(old[0]) < len(kept[0]):
                part.put(key, kept)
        return kept


def _size(kept: Cached) -> int:
    return sum(map(len, kept))


class _Lru:
    def __init__(self, max_bytes: int) -> None:
        self._max = max_bytes
        self._bytes = 0
        self._tiles: OrderedDict[TileKey, Cached] = OrderedDict()

    def get(self, key: TileKey) -> Cached | None:
        found = self._tiles.get(key)
        if found is not None:
            self._tiles.move_to_end(key)
        return found

    def put(self, key: TileKey, kept: Cached) -> None:
        old = self._tiles.pop(key, None)
        if old is not None:
            self._bytes -= _size(old)
        self._tiles[key] = kept
        self._bytes += _size(kept)
        while self._bytes > self._max and self._tiles:
            _, evicted = self._tiles.popitem(last=False)
            self._bytes -= _size(evicted)


class TileSource:
    """A ``merkle.NodeSource`` over tiles: expanded ones (``expand``) and raw
    ones (a tile's hashes as stored), whose inner nodes are computed when asked
    for. ``known`` gives subtree hashes the tiles need not (a head's frontier).
    A subtree hash whose tile is missing or too short raises ``KeyError``."""

    def __init__(self, tiles: Mapping[TileKey, Cached | bytes],
                 expanded: Mapping[TileKey, tuple[bytes, ...]] | None = None,
                 known: Mapping[tuple[int, int], bytes] | None = None) -> None:
        self._tiles = {**tiles, **(expanded or {})}
        self._cache: dict[tuple[int, int], bytes] = dict(known or {})

    def __call__(self, level: int, position: int) -> bytes:
        found = self._cache.get((level, position))
        if found is None:
            found = self._cache[(level, position)] = self._compute(level, position)
        return found

    def _compute(self, level: int, position: int) -> bytes:
        tile_level, rest = divmod(level, HEIGHT)
        number, offset = divmod(position << rest, WIDTH)
        tile = self._tiles[(tile_level, number)]
        if isinstance(tile, tuple):
            start = (offset >> rest) * HASH_SIZE
            node = tile[rest][start:start + HASH_SIZE]
            if len(node) != HASH_SIZE:
                raise KeyError((level, position))
            return node
        data = tile[offset * HASH_SIZE:(offset + (1 << rest)) * HASH_SIZE]
        if len(data) != HASH_SIZE << rest:
            raise KeyError((level, position))
        return subtree_root(data)
