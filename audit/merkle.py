"""RFC 9162 section 2.1 Merkle tree hashing, proofs and their verification.

    leaf hash  = SHA-256(0x00 || entry bytes)           (2.1.1, domain separation)
    node hash  = SHA-256(0x01 || left || right)
    MTH({})    = SHA-256("")
    MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of 2 below n

Proofs are computed against a ``NodeSource``: a function that returns the hash of the
perfect subtree at ``(level, position)`` (it covers leaves ``position * 2**level`` up
to ``(position + 1) * 2**level``). ``needed_nodes`` says in advance which ones a
proof will read, so a database-backed source can fetch them in one query. The
verifiers (2.1.3.2 and 2.1.4.2) depend on nothing else here and are what a holder or
DPO runs on a proof they received.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeSource = Callable[[int, int], bytes]


class ProofError(Exception):
    """A proof does not verify (one opaque reason: which check failed says nothing
    useful to a caller and could help an attacker shape a forgery)."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def frontier_levels(size: int) -> list[int]:
    """Levels of the perfect subtrees that make up a tree of ``size`` leaves, left to
    right (one per set bit of ``size``, largest first)."""
    return [level for level in range(size.bit_length() - 1, -1, -1) if size >> level & 1]


def root_from_frontier(frontier: Sequence[bytes]) -> bytes:
    """The tree head from the perfect-subtree hashes of ``frontier_levels``."""
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    copy = _NODE_PREFIX.copy  # a state that has taken the 0x01: cheaper to copy
    for left in reversed(frontier[:-1]):
        node = copy()
        node.update(left + root)
        root = node.digest()
    return root


_NODE_PREFIX = hashlib.sha256(b"\x01")


def extend(frontier: list[bytes], size: int, leaves: Iterable[bytes],
           completed: list[tuple[int, int, bytes]]) -> int:
    """Append leaf hashes to a frontier in place; every perfect subtree completed on
    the way (including the leaves, level 0) is added to ``completed`` as
    ``(level, position, hash)``. Returns the new size."""
    for leaf in leaves:
        completed.append((0, size, leaf))
        node, level, position = leaf, 0, size
        size += 1
        while position & 1:  # a left sibling of the same level is waiting: merge
            node = node_hash(frontier.pop(), node)
            level, position = level + 1, position >> 1
            completed.append((level, position, node))
        frontier.append(node)
    return size


def grow(frontier: list[bytes], size: int, leaves: Sequence[bytes]
         ) -> tuple[int, dict[int, bytes]]:
    """``extend`` for a whole batch: appends the leaf hashes to ``frontier`` in place
    and returns the new size and, per tree level, the hashes of the perfect
    subtrees completed on it, concatenated in order (the first at position
    ``size >> level``). Level by level, each node is one SHA-256 over a slice of
    that level's buffer, instead of a loop with its bookkeeping per leaf."""
    pending = dict(zip(frontier_levels(size), frontier))
    grown: dict[int, bytes] = {}
    data, start, level = b"".join(leaves), size, 0
    pair = 2 * HASH_SIZE
    sha256 = hashlib.sha256
    while data:
        grown[level] = data
        if start & 1:  # the level's first new node is a right child
            data = pending.pop(level) + data
        paired = len(data) - len(data) % pair
        if paired < len(data):  # the last node waits for its right sibling
            pending[level] = data[paired:]
        data = b"".join([sha256(b"\x01" + data[i:i + pair]).digest()
                         for i in range(0, paired, pair)])
        start, level = start >> 1, level + 1
    size += len(leaves)
    frontier[:] = [pending[level] for level in frontier_levels(size)]
    return size, grown


# --- which perfect subtrees a proof reads -------------------------------------------


def _cover(start: int, end: int, out: list[tuple[int, int]]) -> None:
    """The perfect subtrees whose hashes give MTH(D[start:end]), per 2.1.1's split."""
    n = end - start
    if n & (n - 1) == 0:
        level = n.bit_length() - 1
        out.append((level, start >> level))
        return
    k = _split(n)
    _cover(start, start + k, out)
    _cover(start + k, end, out)


def _subtree(start: int, end: int, get: NodeSource) -> bytes:
    n = end - start
    if n & (n - 1) == 0:
        level = n.bit_length() - 1
        return get(level, start >> level)
    k = _split(n)
    return node_hash(_subtree(start, start + k, get), _subtree(start + k, end, get))


def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The sibling ranges of PATH(m, D[0:n]) (2.1.3.1), leaf end first."""
    ranges: list[tuple[int, int]] = []
    start, end, m = 0, size, index
    while end - start > 1:
        k = _split(end - start)
        if m < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m = start + k, m - k
    ranges.reverse()
    return ranges


def _consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """The ranges of PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true) (2.1.4.1)."""
    ranges: list[tuple[int, int]] = []

    def sub(m: int, start: int, end: int, whole: bool) -> None:
        n = end - start
        if m == n:
            if not whole:
                ranges.append((start, end))
            return
        k = _split(n)
        if m <= k:
            sub(m, start, start + k, whole)
            ranges.append((start + k, end))
        else:
            sub(m - k, start + k, end, False)
            ranges.append((start, start + k))

    sub(old, 0, new, True)
    return ranges


def needed_nodes(ranges: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in ranges:
        _cover(start, end, out)
    return set(out)


def inclusion_nodes(index: int, size: int) -> set[tuple[int, int]]:
    _check_index(index, size)
    return needed_nodes(_inclusion_ranges(index, size))


def consistency_nodes(old: int, new: int) -> set[tuple[int, int]]:
    _check_sizes(old, new)
    return needed_nodes(_consistency_ranges(old, new))


def inclusion_proof(index: int, size: int, get: NodeSource) -> list[bytes]:
    return path_hashes(inclusion_path(index, size), get)


def inclusion_path(index: int, size: int) -> list[list[tuple[int, int]]]:
    """For each hash of PATH(index, D[0:size]) (2.1.3.1), leaf end first, the
    perfect subtrees ``(level, position)`` that make it up, left to right: one,
    except on the right edge of a tree whose size is not a power of two."""
    _check_index(index, size)
    path = []
    for start, end in _inclusion_ranges(index, size):
        cover: list[tuple[int, int]] = []
        _cover(start, end, cover)
        path.append(cover)
    return path


def path_hashes(path: Iterable[Sequence[tuple[int, int]]], get: NodeSource
                ) -> list[bytes]:
    """The hashes of ``inclusion_path``: each the hash over its perfect subtrees,
    MTH(D[a:b]) = node(left, MTH(rest)) by 2.1.1's split, so folded from the
    right."""
    hashes = []
    for cover in path:
        node = get(*cover[-1])
        for level, position in reversed(cover[:-1]):
            node = node_hash(get(level, position), node)
        hashes.append(node)
    return hashes


def consistency_proof(old: int, new: int, get: NodeSource) -> list[bytes]:
    _check_sizes(old, new)
    return [_subtree(s, e, get) for s, e in _consistency_ranges(old, new)]


def tree_root(size: int, get: NodeSource) -> bytes:
    return EMPTY_ROOT if size == 0 else _subtree(0, size, get)


def _check_index(index: int, size: int) -> None:
    if not 0 <= index < size:
        raise ValueError(f"index must be from 0 to {size - 1}")


def _check_sizes(old: int, new: int) -> None:
    if not 0 < old <= new:
        raise ValueError("sizes must satisfy 0 < old <= new")


# --- verification (what anyone holding a proof runs) --------------------------------


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes],
                     root: bytes) -> None:
    """RFC 9162 2.1.3.2. Raises ``ProofError`` unless ``leaf`` (a leaf hash) is at
    ``index`` of the tree of ``size`` leaves whose head is ``root``."""
    _check_hashes(leaf, *proof)  # the root is only ever compared for equality
    if not 0 <= index < size:
        raise ProofError()
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError()
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or r != root:
        raise ProofError()


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> None:
    """RFC 9162 2.1.4.2. A proof from the empty tree is refused, as is any proof
    between equal sizes other than the empty one with equal roots."""
    _check_hashes(*proof)
    if not 0 < old <= new:
        raise ProofError()
    if old == new:
        if proof or old_root != new_root:
            raise ProofError()
        return
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    if not path:
        raise ProofError()
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError()
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or fr != old_root or sr != new_root:
        raise ProofError()


def _check_hashes(*hashes: bytes) -> None:
    if any(not isinstance(h, bytes) or len(h) != HASH_SIZE for h in hashes):
        raise ProofError()


class MemoryTree:
    """Every node of a tree in memory: for tests, benchmarks and ``verify``, which
    rebuilds the tree from the stored entries without trusting stored hashes."""

    def __init__(self) -> None:
        self.levels: list[list[bytes]] = [[]]
        self._frontier: list[bytes] = []

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append(self, leaves: Iterable[bytes]) -> None:
        completed: list[tuple[int, int, bytes]] = []
        extend(self._frontier, self.size, leaves, completed)
        for level, _position, node in completed:
            while len(self.levels) <= level:
                self.levels.append([])
            self.levels[level].append(node)

    @property
    def frontier(self) -> list[bytes]:
        """The perfect-subtree hashes an append extends (see ``extend``)."""
        return list(self._frontier)

    def node(self, level: int, position: int) -> bytes:
        return self.levels[level][position]

    def root(self, size: int | None = None) -> bytes:
        if size is None or size == self.size:
            return root_from_frontier(self._frontier)
        return tree_root(size, self.node)
