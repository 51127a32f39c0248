"""The holder's pod on disk: keys, the encrypted Workcontext with its versions, grants.

Layout of one pod directory (everything but ``pod.json`` is ciphertext)::

    pod.json            did, Argon2id parameters and salt, wrapped keys (ciphertext)
    state.bin           version list, grants and the publication sequence number
    versions/NNNNNN.bin one Workcontext version each

The key-encryption key (KEK) is derived from the passphrase and never written; it wraps
the holder's Ed25519 seed and the content key. A write stores the new version file
first and then the state file, each atomically: the state file is the commit point, so
a crash in between leaves the previous state, with at most one unreferenced ciphertext.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from datetime import datetime
from pathlib import Path

from consent import HolderKey

from . import crypto
from .errors import DecryptionFailed, PodExists, UnlockFailed, WeakPassphrase
from .files import atomic_write
from .holder import UnlockedPod

FORMAT = 1


class PodStore:
    """Creates and unlocks pods under one root directory.

    Key derivation is memory-hard by design (256 MiB per call at the moderate level),
    so at most ``max_derivations`` run at once per process; further unlock attempts
    wait their turn instead of exhausting memory.
    """

    def __init__(self, root: Path, kdf_cost: tuple[int, int] = crypto.MODERATE,
                 min_passphrase: int = 12, max_derivations: int = 2):
        self.root = root
        self.kdf_cost = kdf_cost
        self.min_passphrase = min_passphrase
        self._derivations = threading.BoundedSemaphore(max_derivations)

    def _derive(self, passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
        with self._derivations:
            return crypto.derive_key(passphrase, salt, opslimit, memlimit)

    def directory(self, did: str) -> Path:
        # A hash keeps untrusted identifiers out of file names entirely.
        return self.root / hashlib.sha256(did.encode("utf-8")).hexdigest()[:32]

    def create(self, passphrase: str, now: datetime) -> UnlockedPod:
        if len(passphrase) < self.min_passphrase:
            raise WeakPassphrase(self.min_passphrase)
        seed, content_key = crypto.random_key(), crypto.random_key()
        did = HolderKey(seed).did
        directory = self.directory(did)
        if directory.exists():
            raise PodExists(did)
        salt = crypto.random_salt()
        kek = self._derive(passphrase, salt, *self.kdf_cost)
        wrapped = crypto.seal(kek, _keys_json(seed, content_key), _keys_ad(did))
        meta = _meta(did, salt, self.kdf_cost, wrapped, now)
        atomic_write(directory / "pod.json", json.dumps(meta).encode("utf-8"))
        pod = UnlockedPod(directory, did, kek, seed, content_key)
        pod.initialise_state(now)
        return pod

    def unlock(self, did: str, passphrase: str) -> UnlockedPod:
        meta = self._meta(did)
        kdf = meta["kdf"]
        try:
            kek = self._derive(passphrase, _b64d(kdf["salt"]), kdf["opslimit"],
                               kdf["memlimit"])
        except (ValueError, KeyError) as exc:
            raise UnlockFailed() from exc
        return self._open(did, meta, kek)

    def open_with_key(self, did: str, kek: bytes) -> UnlockedPod:
        """Open a pod with a KEK recovered from a holder session."""
        return self._open(did, self._meta(did), kek)

    def exists(self, did: str) -> bool:
        return (self.directory(did) / "pod.json").exists()

    def _meta(self, did: str) -> dict:
        path = self.directory(did) / "pod.json"
        try:
            meta = json.loads(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise UnlockFailed() from exc
        if meta.get("did") != did:
            raise UnlockFailed()
        return meta

    def _open(self, did: str, meta: dict, kek: bytes) -> UnlockedPod:
        try:
            keys = json.loads(crypto.open_sealed(kek, _b64d(meta["keys"]), _keys_ad(did)))
        except (DecryptionFailed, KeyError, ValueError) as exc:
            raise UnlockFailed() from exc
        return UnlockedPod(self.directory(did), did, kek, _b64d(keys["seed"]),
                           _b64d(keys["content"]))


def _meta(did: str, salt: bytes, cost: tuple[int, int], wrapped: bytes, now) -> dict:
    return {
        "format": FORMAT,
        "did": did,
        "created": now.isoformat(),
        "kdf": {"alg": "argon2id", "salt": _b64(salt), "opslimit": cost[0],
                "memlimit": cost[1]},
        "keys": _b64(wrapped),
    }


def _keys_json(seed: bytes, content_key: bytes) -> bytes:
    return json.dumps({"seed": _b64(seed), "content": _b64(content_key)}).encode()


def _keys_ad(did: str) -> bytes:
    return b"vg-pod-keys|" + did.encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
