"""C2SP signed notes with Ed25519, transparency-log checkpoints and tlog-proofs.

signed-note (c2sp.org/signed-note)::

    <text, one or more lines, each ending in \\n>
    <blank line>
    — <key name> base64(key ID (4 bytes) || signature (64 bytes))\\n   (one or more)

The key ID is ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``; the signature is
over the text alone. A verifier key is written ``name+hex(key ID)+base64(0x01 ||
public key)``. Verifiers ignore signatures by keys they do not know.

tlog-checkpoint (c2sp.org/tlog-checkpoint): the text is ``origin\\nsize\\nbase64(root)\\n``
(extension lines may follow; we write none).

tlog-proof (c2sp.org/tlog-proof): ``c2sp.org/tlog-proof@v1\\n``, an optional
``extra <base64>`` line, ``index <n>\\n``, one base64 hash per line, a blank line, and
the signed checkpoint. Self-contained: whoever holds it, the entry and the log's
verifier key can check it offline.

Ed25519 itself is cryptography's, imported on the first signature or verification:
its Rust and OpenSSL library holds about 8 MB of a process's memory, and a worker
that never publishes or checks a checkpoint (one that only streams a pod's files)
has no use for it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from audit.merkle import HASH_SIZE, ProofError, leaf_hash, verify_inclusion

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

DASH = "\u2014"
ED25519 = b"\x01"
PROOF_HEADER = "c2sp.org/tlog-proof@v1"
MAX_NOTE_BYTES = 1 << 20
MAX_SIGNATURES = 100
SEED_SIZE = 32
_NAME = re.compile(r"[^\s+\u2014]+")


class NoteError(Exception):
    """A note, checkpoint, key or proof is malformed or does not verify."""


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A verifier key: ``name+hexid+base64(0x01||pub)``."""

    name: str
    public_key: bytes

    @classmethod
    def parse(cls, vkey: str) -> Verifier:
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3 or not _NAME.fullmatch(parts[0]):
            raise NoteError("a verifier key is name+keyid+key")
        name, hex_id, encoded = parts
        raw = _b64(encoded)
        if len(raw) != 33 or raw[:1] != ED25519:
            raise NoteError("only Ed25519 verifier keys are supported")
        verifier = cls(name, raw[1:])
        if hex_id != key_id(name, raw[1:]).hex():
            raise NoteError("the verifier key's id does not match its key")
        return verifier

    @property
    def id(self) -> bytes:
        return key_id(self.name, self.public_key)

    def vkey(self) -> str:
        encoded = base64.b64encode(ED25519 + self.public_key).decode()
        return f"{self.name}+{self.id.hex()}+{encoded}"

    def verifies(self, text: bytes, signature: bytes) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text)
        except (InvalidSignature, ValueError):
            return False
        return True


class Signer:
    """Signs notes with an Ed25519 key derived from a 32-byte server secret. The
    name and the seed are checked here; the key is made on first use (the module's
    docstring says why)."""

    def __init__(self, name: str, seed: bytes) -> None:
        if not _NAME.fullmatch(name):
            raise NoteError("a key name has no spaces, '+' or em dashes")
        seed = memoryview(seed).tobytes()  # TypeError for anything but a buffer
        if len(seed) != SEED_SIZE:
            raise ValueError("An Ed25519 private key is 32 bytes long")
        self.name = name
        self._seed = seed

    @cached_property
    def _key(self) -> Ed25519PrivateKey:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import (
            Ed25519PrivateKey,
        )

        return Ed25519PrivateKey.from_private_bytes(self._seed)

    @cached_property
    def verifier(self) -> Verifier:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        public = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return Verifier(self.name, public)

    def sign(self, text: str) -> str:
        """The signed note for ``text`` (which must end in a newline)."""
        _check_text(text)
        signature = self._key.sign(text.encode())
        encoded = base64.b64encode(self.verifier.id + signature).decode()
        return f"{text}\n{DASH} {self.verifier.name} {encoded}\n"


def parse_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """Split a note into its text and its signatures ``(key name, key ID ||
    signature)``, without verifying any of them."""
    if len(note.encode()) > MAX_NOTE_BYTES:
        raise NoteError("the note is too large")
    text, sep, signatures = note.rpartition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise NoteError("a note is text, a blank line and signature lines")
    text += "\n"
    _check_text(text)
    lines = signatures[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("too many signatures")
    return text, [_signature_line(line) for line in lines]


def open_note(note: str, verifier: Verifier) -> str:
    """The text of ``note`` if ``verifier`` signed it; ``NoteError`` otherwise.
    Signatures by other keys are ignored (signed-note, "Verifying")."""
    text, signatures = parse_note(note)
    for name, raw in signatures:
        if name == verifier.name and raw[:4] == verifier.id:
            if verifier.verifies(text.encode(), raw[4:]):
                return text
            raise NoteError("the note's signature does not verify")
    raise NoteError(f"the note is not signed by {verifier.name}")


def _signature_line(line: str) -> tuple[str, bytes]:
    parts = line.split(" ")
    if len(parts) != 3 or parts[0] != DASH or not _NAME.fullmatch(parts[1]):
        raise NoteError("a signature line is '— <name> <base64>'")
    raw = _b64(parts[2])
    if len(raw) < 5:
        raise NoteError("a signature holds a key id and a signature")
    return parts[1], raw


def _check_text(text: str) -> None:
    if not text.endswith("\n") or text.startswith("\n"):
        raise NoteError("note text is lines, each ending in a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("note text holds no control characters")


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError("not standard base64") from None


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or not lines[0] or not re.fullmatch(r"0|[1-9][0-9]*", lines[1]):
            raise NoteError("a checkpoint is origin, size and root hash")
        root = _b64(lines[2])
        if len(root) != HASH_SIZE:
            raise NoteError("a checkpoint's root hash has 32 bytes")
        return cls(lines[0], int(lines[1]), root)


def unverified_checkpoint(note: str) -> Checkpoint:
    """The checkpoint in a note, without checking its signature: for a note this log
    just signed or read from its own table, never for one from elsewhere."""
    text, _signatures = parse_note(note)
    return Checkpoint.parse(text)


def open_checkpoint(note: str, verifier: Verifier, origin: str | None = None
                    ) -> Checkpoint:
    checkpoint = Checkpoint.parse(open_note(note, verifier))
    if origin is not None and checkpoint.origin != origin:
        raise NoteError(f"the checkpoint is for {checkpoint.origin}, not {origin}")
    return checkpoint


def format_proof(index: int, proof: list[bytes], signed_checkpoint: str) -> str:
    hashes = "".join(base64.b64encode(h).decode() + "\n" for h in proof)
    return f"{PROOF_HEADER}\nindex {index}\n{hashes}\n{signed_checkpoint}"


def verify_proof(text: str, entry_bytes: bytes, verifier: Verifier) -> Checkpoint:
    """Check a tlog-proof for ``entry_bytes`` (the entry's canonical bytes) against
    the log's verifier key; returns the checkpoint it is included in."""
    head, sep, note = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or lines[0] != PROOF_HEADER:
        raise NoteError(f"a proof starts with {PROOF_HEADER}")
    lines = lines[1:]
    if lines and lines[0].startswith("extra "):
        lines = lines[1:]
    match = re.fullmatch(r"index (0|[1-9][0-9]*)", lines[0] if lines else "")
    if not match:
        raise NoteError("a proof names the entry's index")
    proof = [_b64(line) for line in lines[1:]]
    checkpoint = open_checkpoint(note, verifier)
    try:
        verify_inclusion(int(match.group(1)), checkpoint.size, leaf_hash(entry_bytes),
                         proof, checkpoint.root)
    except ProofError:
        raise NoteError("the entry is not included in the checkpoint") from None
    return checkpoint
