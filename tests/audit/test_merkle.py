"""The Merkle tree follows RFC 9162 section 2.1: known-answer vectors from
transparency-dev (VG_VECTORS_DIR/merkle), and proofs we make verify."""

from __future__ import annotations

import base64
import json
import random

import pytest

from audit.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    ProofError,
    consistency_nodes,
    consistency_proof,
    extend,
    grow,
    inclusion_nodes,
    inclusion_proof,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)
from tests.audit.vectors import vector_dir

RFC6962_LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f")]


def b64(value: str) -> bytes:
    return base64.b64decode(value)


def cases(kind: str) -> list:
    folder = vector_dir("merkle") / kind
    return sorted(folder.rglob("*.json"))


def test_the_reference_leaves_give_the_known_roots():
    tree = MemoryTree()
    tree.append(leaf_hash(d) for d in RFC6962_LEAVES)
    assert tree.root().hex().startswith("5dc9da79") and tree.root().hex().endswith(
        "f4604328")
    assert leaf_hash(b"").hex().startswith("6e340b9c")
    assert MemoryTree().root() == EMPTY_ROOT


def test_inclusion_vectors_all_agree_with_want_err():
    files = cases("inclusion")
    assert len(files) == 98
    for path in files:
        case = json.loads(path.read_text())
        args = (case["leafIdx"], case["treeSize"], b64(case["leafHash"]),
                [b64(p) for p in case["proof"] or []], b64(case["root"]))
        if case["wantErr"]:
            with pytest.raises(ProofError):
                verify_inclusion(*args)
        else:
            verify_inclusion(*args)


def test_consistency_vectors_all_agree_with_want_err():
    files = cases("consistency")
    assert len(files) == 98
    for path in files:
        case = json.loads(path.read_text())
        args = (case["size1"], case["size2"], b64(case["root1"]), b64(case["root2"]),
                [b64(p) for p in case["proof"] or []])
        if case["wantErr"]:
            with pytest.raises(ProofError), _named(path):
                verify_consistency(*args)
        else:
            verify_consistency(*args)


class _named:
    def __init__(self, path):
        self.path = path

    def __enter__(self):
        return self

    def __exit__(self, kind, *_):
        assert kind is not None, f"{self.path} verified but should not"
        return False


def test_our_inclusion_proofs_match_the_vector_proofs_for_the_reference_tree():
    tree = MemoryTree()
    tree.append(leaf_hash(d) for d in RFC6962_LEAVES)
    case = json.loads((vector_dir("merkle") / "inclusion/1/happy-path.json").read_text())
    proof = inclusion_proof(case["leafIdx"], case["treeSize"], tree.node)
    assert proof == [b64(p) for p in case["proof"]]


def _recursive_root(hashes: list[bytes]) -> bytes:
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return node_hash(_recursive_root(hashes[:k]), _recursive_root(hashes[k:]))


def test_every_proof_in_trees_up_to_40_leaves_verifies_and_a_wrong_one_does_not():
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(40)]
    tree = MemoryTree()
    for n in range(1, 41):
        tree.append([leaves[n - 1]])
        assert tree.root() == _recursive_root(leaves[:n])
        for m in range(n):
            proof = inclusion_proof(m, n, tree.node)
            assert len(inclusion_nodes(m, n)) >= len(proof)
            verify_inclusion(m, n, leaves[m], proof, tree.root(n))
            with pytest.raises(ProofError):
                verify_inclusion(m, n, leaves[(m + 1) % 40], proof, tree.root(n))
            old = m + 1
            proof = consistency_proof(old, n, tree.node)
            assert len(consistency_nodes(old, n)) >= len(proof)
            verify_consistency(old, n, tree.root(old), tree.root(n), proof)
            if old < n:
                with pytest.raises(ProofError):
                    verify_consistency(old, n, tree.root(n), tree.root(n), proof)


def test_appending_in_batches_gives_the_same_nodes_as_one_by_one():
    rng = random.Random(7)
    leaves = [leaf_hash(bytes([i % 256, i // 256])) for i in range(300)]
    one, batched, start = MemoryTree(), MemoryTree(), 0
    one.append(leaves)
    while start < len(leaves):
        step = rng.randint(1, 40)
        batched.append(leaves[start:start + step])
        start += step
    assert one.levels == batched.levels and one.root() == batched.root()


@pytest.mark.parametrize("seed", range(5))
def test_growing_by_a_batch_completes_the_subtrees_extend_completes_leaf_by_leaf(
        seed):
    rng = random.Random(seed)
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(2100)]
    one, batched, size = [], [], 0
    while size < len(leaves):
        step = rng.choice([1, 2, 3, rng.randint(1, 300)])
        batch = leaves[size:size + step]
        completed: list = []
        extend(one, size, batch, completed)
        new_size, grown = grow(batched, size, batch)
        by_level: dict = {}
        for level, position, node in completed:
            assert position - (size >> level) == len(by_level.get(level, b"")) // 32
            by_level[level] = by_level.get(level, b"") + node
        assert grown == by_level
        assert batched == one and new_size == size + len(batch)
        size = new_size
    assert grow(batched, size, []) == (size, {}) and batched == one
