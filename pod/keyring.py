"""The server-held half of every pod's keys, and the witness of its latest state.

One small file per pod, kept outside the pod directories (a separate volume, a KMS or
an HSM at scale)::

    {"shard": <32 random bytes, base64>, "generation": <int>}

- The *shard* is combined with the passphrase key to unlock the pod. Neither half
  opens anything alone. Destroying the shard is the crypto-shredding of GDPR art. 17:
  a copy of the pod directory made before erasure can no longer be opened, not even
  with the passphrase, because the shard is not in that copy.
- The *generation* is the highest state generation this server has committed for the
  pod. States carry their generation inside their associated data; a state older
  than the witness is a rollback. The store also keeps the highest generation it has
  seen in memory, which catches a rollback of both files while the process runs.

Every commit advances the witness, so it lives in a file of its own,
``<pod>.generation``, overwritten in place: two 16-byte records (generation, and
8 bytes of its BLAKE2b as a check), generation ``g`` in record ``g % 2``. A torn
record fails its check and the other one counts. The shard's file is never
rewritten for it (a torn shard would lock the pod for good); its ``generation``
(0, or the witness of a pod written before this file) is read while the
generation file does not exist yet.

A second small file per pod, ``<pod>.inbox.json``, witnesses the inbox: the id and
digest of every message delivered and not yet deleted by the holder. Deliveries need
no key of the pod, so they cannot enter the pod's encrypted manifest; the witness,
held by the server like the shard, is what a reader checks the inbox folder against:
a witnessed message that is missing or changed is detected, and a file nobody
delivered is never shown. It is written durably (a delivery is rare and must not be
lost) and only under the pod's lock.

What this does not cover: someone who can restore both the pod directory and this
file to one earlier, consistent snapshot, on a server that restarts in between, is
not detected from disk alone. The registry still refuses every document of such a
pod that reuses a sequence number, and a withdrawn grant stays withdrawn there. A
keyring file that is itself in a backup keeps the pod openable from that backup:
exclude this directory from backups, or keep the shards in a KMS.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import threading
from pathlib import Path

from . import crypto
from .errors import RollbackDetected, UnlockFailed
from .files import STAGING, atomic_write, fsync_dir, sweep_temporary

_RECORD = 16


class Keyring:
    def __init__(self, directory: Path):
        self.directory = directory
        self._seen: dict[str, int] = {}
        self._guard = threading.Lock()

    def _path(self, pod_id: str) -> Path:
        return _child(self.directory, f"{pod_id}.json")

    def create(self, pod_id: str) -> bytes:
        shard = crypto.random_key()
        self._write(pod_id, shard, 0)
        return shard

    def shard(self, pod_id: str) -> bytes:
        return self._read(pod_id)[0]

    def shard_file(self, pod_id: str) -> bytes:
        """The shard file's bytes as stored, for ``parsed_shard``."""
        try:
            fd = os.open(self._path(pod_id), os.O_RDONLY)
            try:
                return os.read(fd, 1 << 12)
            finally:
                os.close(fd)
        except OSError as exc:
            raise UnlockFailed() from exc

    @staticmethod
    def parsed_shard(data: bytes) -> bytes:
        return _parsed(data)[0]

    def check(self, pod_id: str, generation: int) -> None:
        """Refuse a state older than the witness on disk or the one seen in memory."""
        witnessed = max(self._witnessed(pod_id), self._seen.get(pod_id, 0))
        if generation < witnessed:
            raise RollbackDetected()
        self._remember(pod_id, generation)

    def advance(self, pod_id: str, generation: int) -> None:
        """Record a committed generation; called under the pod's write lock, after
        a read of the state that the witness did not refuse, so ``generation`` is
        above it. Not flushed: the witness may lag after a power cut, and a state
        newer than the witness is accepted, so a lag weakens detection for that
        moment only."""
        record = generation.to_bytes(8, "big") + _check(generation)
        fd = os.open(self._generation_path(pod_id), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, record, (generation % 2) * _RECORD)
        finally:
            os.close(fd)
        self._remember(pod_id, generation)

    def _witnessed(self, pod_id: str) -> int:
        try:
            fd = os.open(self._generation_path(pod_id), os.O_RDONLY)
            try:
                data = os.pread(fd, 2 * _RECORD, 0)
            finally:
                os.close(fd)
        except FileNotFoundError:
            return self._read(pod_id)[1]
        except OSError as exc:
            raise RollbackDetected() from exc
        found = [int.from_bytes(data[i:i + 8], "big") for i in (0, _RECORD)
                 if len(data) >= i + _RECORD
                 and data[i + 8:i + _RECORD] == _check(int.from_bytes(data[i:i + 8],
                                                                      "big"))]
        return max(found) if found else self._read(pod_id)[1]

    def _generation_path(self, pod_id: str) -> str:
        return os.path.join(self.directory, f"{pod_id}.generation")

    def inbox(self, pod_id: str) -> dict[str, str]:
        """The witnessed messages of a pod: id -> digest of the message file."""
        path = self._inbox_path(pod_id)
        try:
            messages = json.loads(path.read_bytes())["messages"]
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RollbackDetected() from exc
        if not isinstance(messages, dict):
            raise RollbackDetected()
        return messages

    def witness_message(self, pod_id: str, message_id: str, digest: str | None) -> None:
        """Record a delivered message, or (``digest`` None) its deletion by the
        holder; the caller holds the pod's lock."""
        messages = self.inbox(pod_id)
        if digest is None:
            messages.pop(message_id, None)
        else:
            messages[message_id] = digest
        atomic_write(self._inbox_path(pod_id),
                     json.dumps({"messages": messages}).encode("ascii"), mode=0o600,
                     owner=pod_id + "-", staging=self.directory / STAGING)

    def _inbox_path(self, pod_id: str) -> Path:
        return self.directory / f"{pod_id}.inbox.json"

    def destroy(self, pod_id: str) -> None:
        """Crypto-shredding: overwrite the shard, then remove the file.

        Overwriting does not reach copies a copy-on-write file system or an SSD
        keeps internally; the directory belongs on storage where deletion is final.
        """
        path = self._path(pod_id)
        if path.exists():
            with open(path, "r+b") as handle:
                size = max(handle.seek(0, os.SEEK_END), 1)
                handle.seek(0)
                handle.write(os.urandom(size))
                handle.flush()
                os.fsync(handle.fileno())
            path.unlink()
            fsync_dir(self.directory)
        self._inbox_path(pod_id).unlink(missing_ok=True)
        Path(self._generation_path(pod_id)).unlink(missing_ok=True)
        with self._guard:
            self._seen.pop(pod_id, None)

    def _remember(self, pod_id: str, generation: int) -> None:
        with self._guard:
            self._seen[pod_id] = max(self._seen.get(pod_id, 0), generation)

    def _read(self, pod_id: str) -> tuple[bytes, int]:
        try:
            data = self._path(pod_id).read_bytes()
        except OSError as exc:
            raise UnlockFailed() from exc
        return _parsed(data)

    def _write(self, pod_id: str, shard: bytes, generation: int) -> None:
        body = {"shard": base64.b64encode(shard).decode("ascii"),
                "generation": generation}
        atomic_write(self._path(pod_id), json.dumps(body).encode("ascii"), mode=0o600,
                     owner=pod_id + "-", staging=self.directory / STAGING)

    def sweep(self, pod_id: str) -> None:
        """Remove what a killed writer of this pod left here (under the pod lock)."""
        sweep_temporary(self.directory / STAGING, owner=pod_id + "-")


@functools.lru_cache(maxsize=4096)
def _child(directory: Path, name: str) -> Path:
    """``directory / name``, kept for the pods in use (a join costs microseconds,
    and every request reads a shard)."""
    return directory / name


def _parsed(data: bytes) -> tuple[bytes, int]:
    """The shard and the generation a shard file holds."""
    try:
        entry = json.loads(data)
        shard = base64.b64decode(entry["shard"], validate=True)
        generation = int(entry["generation"])
    except (ValueError, KeyError, TypeError) as exc:
        raise UnlockFailed() from exc
    if len(shard) != crypto.KEY_BYTES:
        raise UnlockFailed()
    return shard, generation


def _check(generation: int) -> bytes:
    """Detects a torn witness record; not a secret, the keyring is trusted storage."""
    return crypto.digest(generation.to_bytes(8, "big")).encode("ascii")[:8]
