"""Signed notes, checkpoints and tlog-proofs follow C2SP: the specification's own
examples (VG_VECTORS_DIR/signed-note) parse and verify, and what we sign verifies
only with our key and only unchanged."""

from __future__ import annotations

import base64

import pytest

from audit.merkle import MemoryTree, inclusion_proof, leaf_hash
from audit.note import (
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    format_proof,
    open_checkpoint,
    open_note,
    parse_note,
    verify_proof,
)
from tests.audit.vectors import vector_dir


def read(name: str) -> str:
    return (vector_dir("signed-note") / name).read_text(encoding="utf-8")


def test_the_specification_example_verifies_with_its_verifier_key():
    verifier = Verifier.parse(read("signed-note.vkey-example.vkey.txt"))
    assert verifier.id.hex() == "530d903a"
    note = read("signed-note.vkey-example.note.txt")
    assert open_note(note, verifier) == "This is an example message.\n"
    assert verifier.vkey() == read("signed-note.vkey-example.vkey.txt").strip()


def test_a_changed_example_note_does_not_verify():
    verifier = Verifier.parse(read("signed-note.vkey-example.vkey.txt"))
    note = read("signed-note.vkey-example.note.txt").replace("example", "exemplary", 1)
    with pytest.raises(NoteError):
        open_note(note, verifier)


def test_the_parse_only_examples_parse_with_their_key_ids():
    text, signatures = parse_note(read("signed-note.intro-example.note.txt"))
    assert "\n\n" in text  # a blank line inside the text is allowed
    assert [(n, raw[:4].hex()) for n, raw in signatures] == [
        ("quasimodo.example/salvatore", "367ba04b")]
    text, signatures = parse_note(read("tlog-checkpoint.intro-example.note.txt"))
    checkpoint = Checkpoint.parse(text)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa",
                                                    20852163)
    assert signatures[0][1][:4].hex() == "033de0ae"


def test_a_note_by_another_key_is_refused():
    ours, theirs = Signer("vg.example/log", bytes(32)), Signer("vg.example/log",
                                                                bytes([1]) * 32)
    note = theirs.sign("hello\n")
    with pytest.raises(NoteError):
        open_note(note, ours.verifier)
    assert open_note(note, theirs.verifier) == "hello\n"


def test_a_checkpoint_round_trips_and_names_its_origin():
    signer = Signer("vg.example/log", bytes(range(32)))
    checkpoint = Checkpoint("vg.example/log", 5, bytes(32))
    opened = open_checkpoint(signer.sign(checkpoint.text()), signer.verifier,
                             "vg.example/log")
    assert opened == checkpoint
    with pytest.raises(NoteError, match="not other.example"):
        open_checkpoint(signer.sign(checkpoint.text()), signer.verifier,
                        "other.example")
    assert Verifier.parse(signer.verifier.vkey()) == signer.verifier


def test_a_tlog_proof_verifies_for_its_entry_only():
    entries = [f"entry {i}".encode() for i in range(11)]
    tree = MemoryTree()
    tree.append(leaf_hash(e) for e in entries)
    signer = Signer("vg.example/log", bytes(range(32)))
    note = signer.sign(Checkpoint("vg.example/log", 11, tree.root()).text())
    proof = format_proof(6, inclusion_proof(6, 11, tree.node), note)
    assert proof.startswith("c2sp.org/tlog-proof@v1\nindex 6\n")
    assert verify_proof(proof, entries[6], signer.verifier).size == 11
    with pytest.raises(NoteError):
        verify_proof(proof, entries[5], signer.verifier)
    with pytest.raises(NoteError):
        verify_proof(proof.replace("index 6", "index 5"), entries[6], signer.verifier)


def test_a_signer_refuses_a_seed_that_is_not_32_bytes_when_it_is_made():
    with pytest.raises(ValueError, match="32 bytes"):
        Signer("vg.example/log", bytes(31))
    with pytest.raises(TypeError):
        Signer("vg.example/log", "a text, not bytes, of thirty-two!")
    with pytest.raises(NoteError, match="key name"):
        Signer("vg example", bytes(32))


def test_a_signer_signs_with_the_ed25519_key_of_its_seed():
    """RFC 8032 signatures are deterministic, so libsodium's, from the same seed,
    are the same bytes."""
    from nacl.signing import SigningKey

    seed = bytes(range(32))
    signer = Signer("vg.example/log", seed)
    key = SigningKey(seed)
    signature = base64.b64decode(signer.sign("hello\n").split(" ")[-1])

    assert signer.verifier.public_key == bytes(key.verify_key)
    assert signature == signer.verifier.id + key.sign(b"hello\n").signature
