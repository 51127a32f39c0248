"""Pods on disk: creating, unlocking, re-keying and erasing them.

Layout under the store's root (everything but ``pod.json`` is ciphertext)::

    <pod>/pod.json            did, Argon2id parameters and salt, the wrapped keys
    <pod>/state.bin           two slots, each: generation | versions, grants,
                              sequence (the manifest); slots.py
    <pod>/versions/log.bin    every Workcontext version, appended; versionlog.py
    <pod>/versions/index.bin  older manifest entries, in segments; history.py
    <pod>/versions/NNNNNN.bin versions written before the log (one per batch)
    <pod>/binaries/...        binary resources, chunked
    .keyring/<pod>.json       the server-held shard
    .keyring/<pod>.generation the witnessed generation, overwritten in place

Keys: Argon2id(passphrase) is the *passkey*; keyed BLAKE2b of the passkey and the
keyring's shard is the *unlock key*, which opens ``pod.json``'s wrapped record of
the signing seed and the pod's KEK; the KEK wraps one fresh data key per resource
write (see envelope.py). Changing the passphrase or raising the Argon2id cost
rewrites ``pod.json`` only: one atomic write, no data touched. A holder session
carries the passkey, never the KEK, so erasing the shard ends every session too.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import re
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import NoReturn

from consent import HolderKey

from . import crypto
from .attempts import Attempts, SharedFailures
from .commits import GroupCommit
from .derivation import NORMALISATION, KeyDerivation, characters
from .errors import (
    DecryptionFailed,
    PodExists,
    PodNotFound,
    UnlockFailed,
    WeakPassphrase,
)
from .files import STAGING, atomic_write, pod_lock
from .holder import UnlockedPod
from .keyring import Keyring
from .opened import OpenedKeys, OpenedPods

FORMAT = 2
_POD_ID = re.compile(r"[0-9a-f]{32}\Z")
_NO_POD_SALT = b"\x00" * crypto.SALT_BYTES  # for a derivation whose key is unused
_READ = 8192  # pod.json is about 500 bytes, twice that with the keys of a re-wrap


class PodStore:
    """Creates and unlocks pods under one root directory; one server, many pods.

    Key derivation is memory-hard by design (256 MiB per call at the moderate level),
    so every derivation, the archive's included, goes through ``derivation``: at most
    ``max_derivations`` at once per process, never above its ceiling (derivation.py).
    ``attempts`` limits sign-ins per client and per pod (attempts.py), a pod's
    failures counted in a file under ``root`` that every worker shares; the ways in
    (vg) apply it, as they know the client.
    """

    def __init__(self, root: Path, kdf_cost: tuple[int, int] = crypto.MODERATE,
                 min_passphrase: int = 12, keyring_dir: Path | None = None,
                 max_derivations: int = 2,
                 rewrap_grace: timedelta = timedelta(minutes=30)):
        self.derivation = KeyDerivation(kdf_cost, max_derivations)
        # Shared by every worker that serves this root (attempts.py).
        (root / ".attempts").mkdir(parents=True, exist_ok=True, mode=0o700)
        self.attempts = Attempts(
            failures=SharedFailures(root / ".attempts" / "failures.sqlite"))
        self.root = root
        self.kdf_cost = kdf_cost
        self.min_passphrase = min_passphrase
        self.rewrap_grace = rewrap_grace
        self.keyring = Keyring(keyring_dir or root / ".keyring")
        self._commits = GroupCommit()
        self.opened = OpenedPods()

    def _derive(self, passphrase: str, salt: bytes, opslimit: int, memlimit: int,
                normalise: object = NORMALISATION) -> bytes:
        return self.derivation.derive(passphrase, salt, opslimit, memlimit, normalise)

    def pod_id(self, did: str) -> str:
        return _pod_id(did)

    def directory(self, did: str) -> Path:
        return _child(self.root, _pod_id(did))

    def did_for_id(self, pod_id: str) -> str:
        """The did of the pod stored under ``pod_id``; PodNotFound if there is none."""
        if not _POD_ID.match(pod_id):  # anchored at both ends: match() and \Z
            raise PodNotFound()
        try:
            did = json.loads((self.root / pod_id / "pod.json").read_bytes())["did"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise PodNotFound() from exc
        if not isinstance(did, str) or self.pod_id(did) != pod_id:
            raise PodNotFound()
        return did

    def exists(self, did: str) -> bool:
        return (self.directory(did) / "pod.json").exists()

    # -- create and open ---------------------------------------------------------
    def create(self, passphrase: str, now: datetime,
               seed: bytes | None = None) -> UnlockedPod:
        """A new pod; ``seed`` is given only when a pod moves in from an export.

        The check that no pod of this identity exists and the creation are one step
        under the pod's lock, so of two requests creating the same pod (an archive
        imported twice at once) one creates it and the other is refused with
        PodExists, never overwriting the shard the first wrote. Only a directory
        without ``pod.json`` (a creation that died half-way) is written over."""
        self._check_passphrase(passphrase)
        seed = seed or crypto.random_key()
        did = HolderKey(seed).did
        directory = self.directory(did)
        kek = crypto.random_key()
        with pod_lock(directory):
            if (directory / "pod.json").exists():
                raise PodExists(did)
            self.keyring.create(self.pod_id(did))
            passkey = self._write_meta(did, passphrase, self.kdf_cost, seed, kek,
                                       now.isoformat())
            pod = self._unlocked(did, passkey, seed, kek)
            pod.initialise_state()
        return pod

    def unlock(self, did: str, passphrase: str, upgrade: bool = True,
               now: datetime | None = None) -> UnlockedPod:
        """Open with the passphrase; a pod stored at a lower Argon2id cost than the
        store's is re-wrapped at the store's cost on the way (cost raised later), and
        a pod whose key was derived from the passphrase's raw bytes (made before
        normalisation) is re-wrapped under its NFC form, so that from then on it
        opens however the passphrase's accents are typed. ``upgrade`` False opens
        the pod as stored (a read-only command): re-wrapping ends every session
        opened before it, which a look at the grants should not do. Sessions
        opened before a re-wrap keep working for ``rewrap_grace`` (``previous``)."""
        now = now or datetime.now(timezone.utc)
        try:
            meta = self._meta(did)
        except UnlockFailed:
            self.refuse_unlock(passphrase)
        pod = self.unlock_without_upgrade(did, passphrase, meta)
        if upgrade and self._raised_cost(meta) is not None:
            pod.lock()
            return self._upgrade(did, passphrase, now)
        if _previous_ended(meta, now):
            self._forget_previous(did, now)
        return pod

    def _upgrade(self, did: str, passphrase: str, now: datetime) -> UnlockedPod:
        """Re-wrap at the raised cost once: under the pod's lock, with the stored
        parameters read again there. Of two unlocks at once (a double click) the
        second finds the pod re-wrapped already and opens it as it is now, so the
        session the first one was given keeps working.

        The keys as they were wrapped before stay in ``pod.json`` as ``previous``
        for ``rewrap_grace`` (the sessions' lifetime), so a session opened before
        keeps working until it expires (``open_with_key``); the first unlock after
        that removes them. Until then the pod opens at the lower cost too, with
        the server's shard, as it did before the re-wrap."""
        with pod_lock(self.directory(did)):
            meta = self._meta(did)
            pod = self.unlock_without_upgrade(did, passphrase, meta)
            cost = self._raised_cost(meta)
            if cost is None:
                return pod
            seed, kek = pod.key_material()
            previous = {"keys": meta["keys"],
                        "until": (now + self.rewrap_grace).isoformat()}
            passkey = self._write_meta(did, passphrase, cost, seed, kek,
                                       meta["created"], previous)
            pod.lock()
            self.opened.forget(did)
        return self._open(did, self._meta(did), passkey)

    def _raised_cost(self, meta: dict) -> tuple[int, int] | None:
        """The cost to re-wrap a pod's keys at, or None if they are stored as this
        store makes them (its cost or above, derived from the NFC form)."""
        stored = (meta["kdf"]["opslimit"], meta["kdf"]["memlimit"])
        raised = (max(stored[0], self.kdf_cost[0]), max(stored[1], self.kdf_cost[1]))
        if raised == stored and meta["kdf"].get("normalise") == NORMALISATION:
            return None
        return raised

    def refuse_unlock(self, passphrase: str) -> NoReturn:
        """Fail the unlock of a pod that does not exist only after the key
        derivation an existing pod costs: an early answer would tell anyone who
        knows a did (receipts and disclosures carry it) that it has no pod here.
        The time is imitated (``KeyDerivation.imitate``): made-up dids take no
        place from the holders' real derivations."""
        try:
            self.derivation.imitate(passphrase, _NO_POD_SALT)
        except (ValueError, TypeError):
            pass
        raise UnlockFailed()

    def open_with_key(self, did: str, passkey: bytes,
                      now: datetime | None = None,
                      until: datetime | None = None) -> UnlockedPod:
        """Open a pod with the passkey recovered from a holder session; one opened
        before a re-wrap at a raised cost opens with the keys as they were wrapped
        before, until ``rewrap_grace`` after the re-wrap (``_upgrade``).

        ``until``: the session's expiry; the keys opened are then kept in memory
        until it (opened.py), and the next open of the session with the same
        files on disk unwraps nothing."""
        now = now or _utc_now()
        if until is None:
            return self._open_meta(did, self._meta(did), passkey, now)
        try:
            meta_file, shard_file = self._files(did)
        except UnlockFailed:  # erased, perhaps by another worker
            self.opened.forget(did)
            raise
        kept = self.opened.find(did, passkey, meta_file, shard_file, now)
        if kept is not None:
            seed, kek, shard, shard_digest = kept
            return self._unlocked(did, passkey, seed, kek, shard, shard_digest)
        meta = _parsed_meta(meta_file, did)
        shard = self.keyring.parsed_shard(shard_file)
        try:
            pod = self._open(did, meta, passkey, shard)
        except UnlockFailed:
            return self._open_meta(did, meta, passkey, now, shard)
        seed, kek = pod.key_material()
        self.opened.keep(did, OpenedKeys(
            bytearray(passkey), bytearray(seed), bytearray(kek), bytearray(shard),
            pod.shard_digest, meta_file, bytearray(shard_file), until.timestamp()),
            now)
        return pod

    def _open_meta(self, did: str, meta: dict, passkey: bytes, now: datetime,
                   shard: bytes | None = None) -> UnlockedPod:
        try:
            return self._open(did, meta, passkey, shard)
        except UnlockFailed:
            previous = meta.get("previous")
            if previous is None or _previous_ended(meta, now):
                raise
            return self._open(did, {**meta, "keys": previous["keys"]}, passkey,
                              shard)

    def forget_stale(self, now: datetime) -> int:
        """Drop the kept keys of expired sessions and of pods whose files changed
        (another worker changed the passphrase or erased the pod); opened.py."""
        return self.opened.forget_stale(now, self._files_or_none)

    def _files(self, did: str) -> tuple[bytes, bytes]:
        """The bytes of ``pod.json`` and of the keyring's shard file."""
        return (_read_file(_child(self.directory(did), "pod.json")),
                self.keyring.shard_file(self.pod_id(did)))

    def _files_or_none(self, did: str) -> tuple[bytes, bytes] | None:
        try:
            return self._files(did)
        except UnlockFailed:
            return None

    def _forget_previous(self, did: str, now: datetime) -> None:
        """Remove the keys wrapped before a re-wrap once their grace has ended."""
        directory = self.directory(did)
        with pod_lock(directory):
            meta = self._meta(did)
            if not _previous_ended(meta, now):
                return
            del meta["previous"]
            atomic_write(directory / "pod.json", json.dumps(meta).encode("utf-8"),
                         staging=directory / STAGING)
            self.opened.forget(did)

    # -- re-keying and erasure ---------------------------------------------------
    def change_passphrase(self, did: str, old: str, new: str,
                          cost: tuple[int, int] | None = None) -> UnlockedPod:
        """Re-wrap the pod's keys under a new passphrase (and cost); data untouched.
        Sessions opened with the old passphrase stop working."""
        self._check_passphrase(new)
        cost = cost or self.kdf_cost
        if not self.derivation.accepts(*cost):
            raise ValueError("Argon2id cost is outside what this server accepts")
        with pod_lock(self.directory(did)):
            meta = self._meta(did)
            old_pod = self.unlock_without_upgrade(did, old, meta)
            seed, kek = old_pod.key_material()
            passkey = self._write_meta(did, new, cost, seed, kek, meta["created"])
            old_pod.lock()
            self.opened.forget(did)
        return self._open(did, self._meta(did), passkey)

    def unlock_without_upgrade(self, did: str, passphrase: str,
                               meta: dict | None = None) -> UnlockedPod:
        meta = meta or self._meta(did)
        kdf = meta["kdf"]
        try:
            passkey = self._derive(passphrase, _b64d(kdf["salt"]), kdf["opslimit"],
                                   kdf["memlimit"], kdf.get("normalise"))
        except (ValueError, KeyError, TypeError) as exc:
            raise UnlockFailed() from exc
        return self._open(did, meta, passkey)

    def erase(self, pod: UnlockedPod) -> None:
        """Crypto-shred the pod, then delete its files (GDPR art. 17).

        The shard goes first: from that moment nothing of the pod opens, even if
        deleting the directory fails half-way or a copy of it exists elsewhere. A
        pod erased already, and perhaps created again since, is left as it is.
        """
        directory = self.directory(pod.did)
        with pod_lock(directory):
            if self._is_on_disk(pod):
                self.keyring.destroy(self.pod_id(pod.did))
                shutil.rmtree(directory, ignore_errors=True)
                self.opened.forget(pod.did)
            pod.lock()

    def _is_on_disk(self, pod: UnlockedPod) -> bool:
        """Whether the pod stored now is the one ``pod`` opened: after an erasure
        another pod of the same identity (an archive imported again) may have been
        created in its place, with a shard of its own, and it is not this
        erasure's to remove. A new passphrase keeps the shard."""
        try:
            shard = self.keyring.shard(self.pod_id(pod.did))
        except UnlockFailed:
            return False
        return crypto.digest(shard) == pod.shard_digest

    # -- internals -----------------------------------------------------------------
    def _check_passphrase(self, passphrase: str) -> None:
        """For a new passphrase: at least ``min_passphrase`` characters counted in
        the form the key is derived from (six accented letters typed decomposed
        are six, not twelve), and not only white space or one character over and
        over, which a guesser tries first. Opening a pod checks nothing: a pod
        made before this rule keeps opening (and re-wrapping) with its own."""
        if not isinstance(passphrase, str):
            raise WeakPassphrase(self.min_passphrase)
        clusters = characters(passphrase)
        if (len(clusters) < self.min_passphrase or not passphrase.strip()
                or len(set(clusters)) < 2):
            raise WeakPassphrase(self.min_passphrase)

    def _unlocked(self, did: str, passkey: bytes, seed: bytes, kek: bytes,
                  shard: bytes | None = None,
                  shard_digest: str | None = None) -> UnlockedPod:
        """``shard`` is the one the keys were opened with, when the caller read it
        (and ``shard_digest`` its digest, when the caller has it)."""
        pod_id = self.pod_id(did)
        shard = self.keyring.shard(pod_id) if shard is None else shard
        return UnlockedPod(self.directory(did), did, passkey, seed, kek, self.keyring,
                           pod_id, self._commits,
                           shard_digest=shard_digest or crypto.digest(shard))

    def _meta(self, did: str) -> dict:
        return _parsed_meta(_read_file(_child(self.directory(did), "pod.json")), did)

    def _open(self, did: str, meta: dict, passkey: bytes,
              shard: bytes | None = None) -> UnlockedPod:
        shard = self.keyring.shard(self.pod_id(did)) if shard is None else shard
        unlock_key = crypto.combine(passkey, shard)
        try:
            keys = json.loads(crypto.open_sealed(unlock_key, _b64d(meta["keys"]),
                                                 _keys_ad(did)))
            seed, kek = _b64d(keys["seed"]), _b64d(keys["kek"])
        except (DecryptionFailed, KeyError, ValueError, TypeError) as exc:
            raise UnlockFailed() from exc
        return self._unlocked(did, passkey, seed, kek, shard)

    def _write_meta(self, did: str, passphrase: str, cost: tuple[int, int],
                    seed: bytes, kek: bytes, created: str,
                    previous: dict | None = None) -> bytes:
        """``previous``: the keys as wrapped before a re-wrap, kept for a while
        (``_upgrade``); any other rewrite, a new passphrase's, drops them."""
        salt = crypto.random_salt()
        passkey = self._derive(passphrase, salt, *cost)
        unlock_key = crypto.combine(passkey, self.keyring.shard(self.pod_id(did)))
        record = json.dumps({"seed": _b64(seed), "kek": _b64(kek)}).encode()
        meta = {
            "format": FORMAT,
            "did": did,
            "created": created,
            "kdf": {"alg": "argon2id", "salt": _b64(salt), "opslimit": cost[0],
                    "memlimit": cost[1], "normalise": NORMALISATION},
            "keys": _b64(crypto.seal(unlock_key, record, _keys_ad(did))),
        }
        if previous is not None:
            meta["previous"] = previous
        directory = self.directory(did)
        atomic_write(directory / "pod.json", json.dumps(meta).encode("utf-8"),
                     staging=directory / STAGING)
        return passkey


@functools.lru_cache(maxsize=4096)
def _pod_id(did: str) -> str:
    # A hash keeps untrusted identifiers out of file names entirely. Every request
    # of a holder asks for it a few times; the answers of the latest dids are kept.
    return hashlib.sha256(did.encode("utf-8")).hexdigest()[:32]


@functools.lru_cache(maxsize=8192)
def _child(directory: Path, name: str) -> Path:
    """``directory / name``, kept for the pods in use: a path join costs a few
    microseconds, and opening a pod for a request made several."""
    return directory / name


def _read_file(path: Path) -> bytes:
    """A small file's bytes, in three system calls (``Path.read_bytes`` makes a
    file object around them, a few times the cost, on every request). A read of
    a regular file comes back short only at its end."""
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            data = chunk = os.read(fd, _READ)
            while len(chunk) == _READ:
                chunk = os.read(fd, _READ)
                data += chunk
            return data
        finally:
            os.close(fd)
    except OSError as exc:
        raise UnlockFailed() from exc


def _parsed_meta(data: bytes, did: str) -> dict:
    try:
        meta = json.loads(data)
    except ValueError as exc:
        raise UnlockFailed() from exc
    if not isinstance(meta, dict) or meta.get("did") != did:
        raise UnlockFailed()
    return meta


def _previous_ended(meta: dict, now: datetime) -> bool:
    """Whether ``meta`` holds keys from before a re-wrap whose grace has ended; an
    unreadable end counts as ended."""
    previous = meta.get("previous")
    if previous is None:
        return False
    try:
        return now >= datetime.fromisoformat(previous["until"])
    except (KeyError, TypeError, ValueError):
        return True


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _keys_ad(did: str) -> bytes:
    return b"vg-pod-keys|" + did.encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64d(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
