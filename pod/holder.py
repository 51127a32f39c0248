"""An unlocked pod: what the holder can do while their keys are in memory.

The pod keeps the full, private Workcontext with every version, and every grant the
holder made. It hands out signed disclosures, withdrawals and the erasure request; it
never talks to a registry itself (the composition layer delivers the documents, as a
network would).

Commit protocol: a write stores its new resource files first, then the state (the
manifest: versions with their digests, grants, the sequence number), then advances
the keyring's witness. The state is the commit point; a crash before it leaves the
previous state plus unreferenced ciphertext, which the next writer removes or
overwrites. Reads check the state's generation against the witness (keyring.py).
Concurrent Workcontext writes share one commit (commits.py). A Workcontext commit
appends the batch's versions to the version log (versionlog.py) and writes the
state into its slot (slots.py), and flushes both in one round; the state names the
range it appended with its digest, so a state whose versions did not reach the disk
is passed over for the one before. Pods written before the log keep their version
files (``versions/NNNNNN.bin``, one per batch); their entries name the file.

The manifest names only the newest versions; older entries move into sealed
segments of the history index (history.py), which the manifest names with their
range and digest, so it stays small however long the history grows. Without that,
every read and write would decrypt and parse the whole history: measured at 17-20 ms
per read after 3,000 versions.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import orjson

from consent import (
    Audience,
    Grant,
    HolderKey,
    format_time,
    grant_from_json,
    make_disclosure,
    make_withdrawal,
    new_grant,
    sign_document,
)

from . import crypto, envelope, history, slots, versionlog
from .commits import GroupCommit, Pending
from .errors import (
    DecryptionFailed,
    GrantNotFound,
    GrantNotLive,
    PodError,
    PodLocked,
    PreconditionFailed,
    RollbackDetected,
    VersionNotFound,
    WorkcontextMissing,
)
from .files import (
    STAGING,
    atomic_write,
    pod_lock,
    shared_lock,
    sweep_temporary,
    try_exclusive_lock,
)
from .keyring import Keyring
from .versionlog import VersionLog

ERASURE_TYPE = "ErasureRequest"
_STATE_RETRIES = 5


@dataclass(frozen=True, slots=True)
class VersionInfo:
    version: int
    saved: str


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """A version just committed, with the ETag that names exactly it and the
    grants as that commit left them (to publish under, without reading the state
    again)."""

    version: int
    etag: str
    grant_entries: tuple[dict, ...] = ()

    def grants(self) -> list[GrantRecord]:
        return grant_records(self.grant_entries)


@dataclass(frozen=True, slots=True)
class GrantRecord:
    """A grant as the pod keeps it. ``pending`` is set while a withdrawal is on its
    way to the registry: from then on the pod publishes nothing under the grant.
    ``publishing`` is set while a new grant's first disclosure is on its way: the
    grant is recorded before the registry hears of it, so no disclosure can exist
    under a grant the pod does not know (holder_flows.grant_consent).
    ``renewed_by`` names the grant that renewed this one, when a renewal ended it
    (pods from before this mark: ``renewals.successor`` infers it)."""

    grant: Grant
    withdrawn: str | None
    pending: str | None = None
    publishing: str | None = None
    renewed_by: str | None = None

    def is_live(self, now: datetime) -> bool:
        return (self.withdrawn is None and self.pending is None
                and self.publishing is None and self.grant.is_live(now))


def grant_records(entries) -> list[GrantRecord]:
    """Grant records from the state's grant entries (each grant's signature checked)."""
    return [GrantRecord(grant_from_json(g["grant"]), g["withdrawn"], g.get("pending"),
                        g.get("publishing"), g.get("renewedBy"))
            for g in entries]


def etag_of(entry: dict) -> str:
    """A strong ETag (RFC 9110 8.8.3) for one version: its number and digest."""
    return f'"{entry["version"]}-{entry["digest"][:16]}"'


class UnlockedPod:
    def __init__(self, directory: Path, did: str, passkey: bytes, seed: bytes,
                 kek: bytes, keyring: Keyring, pod_id: str,
                 commits: GroupCommit | None = None, shard_digest: str = ""):
        self.directory = directory
        # Names the keyring shard the pod was opened with (store.py: erasure).
        self.shard_digest = shard_digest
        self.did = did
        self.pod_id = pod_id
        self._passkey = bytearray(passkey)
        self._seed = bytearray(seed)
        self._kek = bytearray(kek)
        self._keyring = keyring
        self._staging, self._state_path, log, index = _paths(directory)
        self._commits = commits or GroupCommit()
        self._log = VersionLog(directory, path=log)
        self._index = VersionLog(directory, history.NAME, path=index)

    # -- key material ----------------------------------------------------------
    @property
    def passkey(self) -> bytes:
        """What a holder session carries: useless without the keyring's shard."""
        return bytes(self._live(self._passkey))

    def key_material(self) -> tuple[bytes, bytes]:
        """The signing seed and the KEK, for re-wrapping and for an export."""
        return bytes(self._live(self._seed)), bytes(self._live(self._kek))

    def lock(self) -> None:
        """Overwrite the keys this object holds. Python may still hold copies made
        by the libraries during use; those go with the garbage collector."""
        for secret in (self._passkey, self._seed, self._kek):
            secret[:] = bytes(len(secret))
            secret.clear()

    @property
    def locked(self) -> bool:
        return not self._kek

    def _live(self, secret: bytearray) -> bytearray:
        if not secret:
            raise PodLocked()
        return secret

    def _signer(self) -> HolderKey:
        return HolderKey(bytes(self._live(self._seed)))

    def _kek_bytes(self) -> bytes:
        return bytes(self._live(self._kek))

    # -- sealed files ----------------------------------------------------------
    def seal(self, plaintext: bytes, *resource: object) -> bytes:
        return envelope.seal_resource(self._kek_bytes(),
                                      envelope.associated(self.did, *resource),
                                      plaintext)

    def open(self, blob: bytes, *resource: object) -> bytes:
        return envelope.open_resource(self._kek_bytes(),
                                      envelope.associated(self.did, *resource), blob)

    # -- state -----------------------------------------------------------------
    def initialise_state(self) -> None:
        """The empty state of a new pod; the caller holds the pod lock."""
        self._write_state({"versions": [], "grants": [], "sequence": 0,
                           "binaries": {}}, 1)

    def read_state(self) -> dict:
        """The committed state. Readers take no lock, so a reader may load a state
        file just before a writer replaces it and then see the writer's newer
        witness: a state older than the witness is read once more, and only a
        file that is still older is a rollback."""
        kek = self._kek_bytes()
        generation, state = self._load_state(kek)
        for _ in range(_STATE_RETRIES):
            try:
                self._keyring.check(self.pod_id, generation)
                break
            except RollbackDetected:
                again, state = self._load_state(kek)
                if again == generation:
                    raise
                generation = again
        else:
            self._keyring.check(self.pod_id, generation)
        state["generation"] = generation
        return state

    def _load_state(self, kek: bytes) -> tuple[int, dict]:
        return slots.read_newest(self._state_path,
                                 lambda generation, sealed: self._open_state(
                                     kek, generation, sealed))

    def _open_state(self, kek: bytes, generation: int, sealed: bytes) -> dict:
        """A state whose envelope opens and whose appended versions are on disk."""
        plain = envelope.open_resource(
            kek, envelope.associated(self.did, "state", generation), sealed)
        state = _state_from_json(plain)
        for log, tail, end in ((self._log, "logTail", "logEnd"),
                               (self._index, "indexTail", "indexEnd")):
            if state.get(tail) is not None:
                log.check(int(state[tail]["start"]), int(state[end]),
                          str(state[tail]["digest"]))
        return state

    def commit(self, state: dict, with_files: list[Path] = (),
               log_fds: list[int] = ()) -> None:
        """Write ``state`` as the next generation (caller holds the pod lock);
        ``with_files`` are new files it names, synced with it (files.py);
        ``log_fds`` the version log when this commit appended to it."""
        self._write_state(state, state["generation"] + 1, with_files, log_fds)

    def _write_state(self, state: dict, generation: int,
                     with_files: list[Path] = (), log_fds: list[int] = ()) -> None:
        if not log_fds:  # the ranges of an earlier, durable commit
            state.pop("logTail", None)
            state.pop("indexTail", None)
        if state.get("unpublished", 0) and (
                state["unpublished"] <= self._commits.published(self.pod_id)):
            del state["unpublished"]  # published since: rides on this commit
        body = {k: v for k, v in state.items() if k != "generation"}
        sealed = envelope.seal_resource(
            self._kek_bytes(), envelope.associated(self.did, "state", generation),
            _state_json(body))
        slots.write(self._state_path, generation, sealed,
                    sync_with=log_fds, with_files=with_files)
        self._keyring.advance(self.pod_id, generation)
        state["generation"] = generation

    def witnessed_messages(self) -> dict[str, str]:
        """The inbox messages the server witnessed as delivered (keyring.py)."""
        return self._keyring.inbox(self.pod_id)

    def witness_deleted_message(self, message_id: str) -> None:
        """Under the write lock: the holder deleted this message."""
        self._keyring.witness_message(self.pod_id, message_id, None)

    def write_locked(self):
        """The pod's write lock, with leftovers of killed writers swept first."""
        return _SweepingLock(self.directory, self._staging,
                             lambda: self._keyring.sweep(self.pod_id))

    # -- Workcontext -----------------------------------------------------------
    def workcontext(self) -> dict[str, Any] | None:
        versions = self.read_state()["versions"]
        return self._read_version(versions[-1]) if versions else None

    def workcontext_with_etag(self) -> tuple[dict[str, Any], str] | None:
        versions = self.read_state()["versions"]
        if not versions:
            return None
        return self._read_version(versions[-1]), etag_of(versions[-1])

    def workcontext_json_with_etag(self) -> tuple[bytes, str] | None:
        """The current version as compact JSON (``compact_json``) with its ETag:
        a version stored in that form is sent as it was decrypted, unparsed."""
        versions = self.read_state()["versions"]
        if not versions:
            return None
        entry = versions[-1]
        plaintext = self._version_plaintext(entry)
        if not entry.get("compact"):
            plaintext = compact_json(json.loads(plaintext))
        return plaintext, etag_of(entry)

    def etag(self) -> str | None:
        versions = self.read_state()["versions"]
        return etag_of(versions[-1]) if versions else None

    # -- publication of the Workcontext -----------------------------------------
    def publication_pending(self) -> int | None:
        """The newest version if the registry may not hold it under every grant
        yet: a save marks its version ``unpublished`` in the commit that stores
        it, and the mark goes once the registry took it (``note_published``), or
        when it is published again (``clear_unpublished``) after a crash or a
        refusal. None when nothing is pending."""
        flagged = self.read_state().get("unpublished")
        if not flagged or flagged <= self._commits.published(self.pod_id):
            return None
        return flagged

    def note_published(self, version: int) -> None:
        """The registry took every disclosure of ``version``: remembered in this
        process, and written with the pod's next commit (no commit of its own,
        a save pays for one durable write only). A crash before that leaves the
        mark, and the version is published once more, which changes nothing."""
        self._commits.note_published(self.pod_id, version)

    def clear_unpublished(self, version: int) -> None:
        """Published again after all: drop the mark of ``version`` (or older)."""
        self.note_published(version)
        with self.write_locked():
            state = self.read_state()
            if state.get("unpublished") and state["unpublished"] <= version:
                self.commit(state)

    def versions(self) -> list[VersionInfo]:
        return [VersionInfo(v["version"], v["saved"])
                for v in self._all_entries(self.read_state())]

    def version(self, number: int) -> dict[str, Any]:
        state = self.read_state()
        entries = state["versions"]
        for segment in state.get("segments", []):
            if segment["first"] <= number <= segment["last"]:
                entries = self._segment(segment)
        for entry in entries:
            if entry["version"] == number:
                return self._read_version(entry)
        raise VersionNotFound(number)

    def history(self) -> Iterator[tuple[dict, dict[str, Any]]]:
        """Every version's manifest entry with its document, oldest first."""
        for entry in self._all_entries(self.read_state()):
            yield entry, self._read_version(entry)

    def _all_entries(self, state: dict) -> list[dict]:
        entries = []
        for segment in state.get("segments", []):
            entries += self._segment(segment)
        return entries + state["versions"]

    def _segment(self, segment: dict) -> list[dict]:
        """A segment's entries: from the history index, or from its own file (a
        segment written before the index)."""
        first = int(segment["first"])
        try:
            if "index" in segment:
                blob = self._index.read(int(segment["index"]), int(segment["length"]))
                resource: tuple = ("segment", first, int(segment["last"]))
            else:
                blob = self._segment_path(first).read_bytes()
                resource = ("segment", first)
        except (OSError, TypeError, ValueError) as exc:
            raise DecryptionFailed() from exc
        if crypto.digest(blob) != segment["digest"]:
            raise DecryptionFailed()
        return json.loads(self.open(blob, *resource))

    def _segment_path(self, first: int) -> Path:
        return self.directory / "versions" / f"segment-{first:06d}.bin"

    def _append(self, state: dict, blobs: list[bytes]) -> list[int]:
        """Append the batch's versions to the log and, when the manifest is full,
        a segment to the history index (caller holds the pod lock); returns the
        open files, which the commit flushes with the state and the caller
        closes."""
        fds = [self._write_versions(state, blobs)]
        try:
            state.pop("indexTail", None)  # the range of an earlier commit
            segment = history.fold(
                state, int(state.get("indexEnd", 0)), self._segment,
                lambda plain, first, last: self.seal(plain, "segment", first, last))
            if segment:
                fds.append(self._index.append(int(state["indexTail"]["start"]),
                                              segment))
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise
        return fds

    def _read_version(self, entry: dict) -> dict[str, Any]:
        return json.loads(self._version_plaintext(entry))

    def _version_plaintext(self, entry: dict) -> bytes:
        try:
            blob = self._version_blob(entry)
        except (OSError, TypeError, ValueError) as exc:
            raise DecryptionFailed() from exc
        if crypto.digest(blob) != entry["digest"]:
            raise DecryptionFailed()
        return self.open(blob, "workcontext", entry["version"])

    def _version_blob(self, entry: dict) -> bytes:
        """A version's ciphertext: its range of the log, a whole file, or its
        slice of a batch file (the last two from before the log)."""
        if "log" in entry:
            return self._log.read(int(entry["log"]), int(entry["length"]))
        path = self._version_path(int(entry.get("file", entry["version"])))
        if "offset" not in entry:
            return path.read_bytes()
        with open(path, "rb") as handle:
            handle.seek(int(entry["offset"]))
            return handle.read(int(entry["length"]))

    def _version_path(self, number: int) -> Path:
        return self.directory / "versions" / f"{number:06d}.bin"

    def _write_versions(self, state: dict, blobs: list[bytes]) -> int:
        """Append the ciphertexts of the newest ``len(blobs)`` versions in ``state``
        to the version log (caller holds the pod lock); returns the log's open file,
        which the commit that names them flushes with the state and the caller
        closes. They go after the committed end, so a crash leaves bytes no state
        names, which the next commit overwrites."""
        entries = state["versions"][-len(blobs):]
        start = offset = int(state.get("logEnd", 0))
        for entry, blob in zip(entries, blobs):
            entry.update(log=offset, length=len(blob))
            offset += len(blob)
        data = b"".join(blobs)
        fd = self._log.append(start, data)
        state["logEnd"] = offset
        state["logTail"] = {"start": start, "digest": crypto.digest(data)}
        return fd

    def save_workcontext(self, document: dict[str, Any], now: datetime,
                         if_match: str | None = None) -> int:
        return self.store_version(document, now, if_match).version

    def store_version(self, document: dict[str, Any], now: datetime,
                      if_match: str | None = None) -> StoredVersion:
        """Store a new version. The caller validates it first (schemas).

        ``if_match`` is the ETag the caller last read (or ``*``): a write based on
        a version that is no longer the current one is refused (RFC 9110 13.1.1),
        so two concurrent updates cannot silently lose one another. Writers that
        arrive together share one commit (commits.py) and are checked in order.
        """
        return self._commits.run(self.pod_id,
                                 self._version_job(document, now, if_match),
                                 self._commit_versions)

    async def store_version_async(self, document: dict[str, Any], now: datetime,
                                  if_match: str | None = None) -> StoredVersion:
        """``store_version`` for a caller on an event loop: it waits for its
        batch without a thread of its own, and only the batch's commit runs in
        a thread (commits.py). The pod must stay open until this returns."""
        return await self._commits.run_async(
            self.pod_id, self._version_job(document, now, if_match),
            self._commit_versions)

    def _version_job(self, document: dict[str, Any], now: datetime,
                     if_match: str | None) -> Callable[[dict, list[bytes]],
                                                       StoredVersion]:
        """The part of a version's store that runs in its batch, under the lock."""
        plaintext, compact = _plaintext(document)
        saved = format_time(now)

        def job(state: dict, blobs: list[bytes]) -> StoredVersion:
            _check_precondition(state, if_match)
            number = (state["versions"][-1]["version"] if state["versions"] else 0) + 1
            blob = self.seal(plaintext, "workcontext", number)
            entry = _entry_for(number, saved, blob, compact)
            state["versions"].append(entry)
            if any(not g["withdrawn"] for g in state["grants"]):
                state["unpublished"] = number  # until the registry took it
            blobs.append(blob)
            return StoredVersion(number, etag_of(entry), tuple(state["grants"]))

        return job

    def _commit_versions(self, take: Callable[[], list[Pending]]) -> None:
        """Commit the writers queued by the time the pod's lock is held."""
        with self.write_locked():
            batch = take()
            state = self.read_state()
            blobs: list[bytes] = []
            for pending in batch:
                try:
                    pending.result = pending.job(state, blobs)
                except PodError as exc:
                    pending.error = exc
            if blobs:
                fds = self._append(state, blobs)
                try:
                    self.commit(state, log_fds=fds)
                finally:
                    for fd in fds:
                        os.close(fd)

    def restore(self, number: int, now: datetime, if_match: str | None = None) -> int:
        """Make an earlier version the current one, as a new version: history is
        never rewritten."""
        return self.save_workcontext(self.version(number), now, if_match)

    # -- moving in from an export ------------------------------------------------
    def load(self, history: list[dict], grants: list[dict], sequence: int,
             access_log: list[dict], binaries: dict[str, dict] | None = None,
             before_commit: Callable[[], Any] | None = None) -> None:
        """Fill a new, empty pod from an archive's contents in one commit: a crash
        part-way leaves the empty pod, never half of the history. ``binaries`` are
        manifest entries of files already written durably (binaries.py);
        ``before_commit`` gives them their stored names, under the pod's lock."""
        records = [_grant_record(entry, self.did) for entry in grants]
        with self.write_locked():
            if before_commit is not None:
                before_commit()
            state = self.read_state()
            blobs = []
            for entry in history:
                number = entry["version"]
                plaintext, compact = _plaintext(entry["document"])
                blobs.append(self.seal(plaintext, "workcontext", number))
                state["versions"].append(_entry_for(number, entry["saved"], blobs[-1],
                                                    compact))
            state["grants"] = records
            state["sequence"] = sequence
            state["binaries"] = dict(binaries or {})
            if access_log:
                blob = self.seal(json.dumps(access_log).encode("utf-8"), "accesslog")
                atomic_write(self.directory / "accesslog.bin", blob,
                             staging=self._staging)
                state["accessLog"] = crypto.digest(blob)
            logs = self._append(state, blobs) if blobs else []
            try:
                self.commit(state, log_fds=logs)
            finally:
                for fd in logs:
                    os.close(fd)

    def imported_access_log(self) -> list[dict]:
        """The access log that came with an import (entries of the old server)."""
        expected = self.read_state().get("accessLog")
        if expected is None:
            return []
        blob = (self.directory / "accesslog.bin").read_bytes()
        if crypto.digest(blob) != expected:
            raise DecryptionFailed()
        return json.loads(self.open(blob, "accesslog"))

    # -- grants ----------------------------------------------------------------
    def grants(self) -> list[GrantRecord]:
        return grant_records(self.read_state()["grants"])

    def grant(self, grant_id: str) -> GrantRecord:
        for record in self.grants():
            if record.grant.id == grant_id:
                return record
        raise GrantNotFound(grant_id)

    def sign_grant(self, audience: Audience, purposes: list[str], fields: list[str],
                   valid_until: datetime, now: datetime,
                   valid_from: datetime | None = None,
                   renews: str | None = None) -> Grant:
        """A new grant signed by the holder, not yet recorded in the pod."""
        grant = new_grant(self.did, audience, purposes, fields, valid_until, now,
                          valid_from=valid_from, renews=renews)
        return grant.signed_by(self._signer())

    @contextmanager
    def grants_locked(self, wait: float | None = None) -> Iterator[None]:
        """The pod's grant lock: held by every flow that changes consent (grant,
        renewal, withdrawal, erasure, publication under the grants) from reading
        the grants to recording and publishing what it decided, across threads and
        processes, so no two of them act on what the other is about to change.
        Publishing takes the write lock inside it, so this is a lock of its own.
        With ``wait`` (seconds) PodBusy is raised, before anything is read or
        changed, when another request holds it that long: one stuck request of
        the holder would otherwise make each later one wait with it.

        A thread that holds it may take it again (a renewal grants, then ends the
        grant it renews): flock would make the second take wait for the first."""
        held = _GRANT_LOCKS.__dict__.setdefault("held", {})
        key = str(self.directory)
        if held.get(key):
            held[key] += 1
            try:
                yield
            finally:
                held[key] -= 1
            return
        with pod_lock(self.directory, ".grants-lock", wait=wait):
            held[key] = 1
            try:
                yield
            finally:
                del held[key]

    def store_grant(self, grant: Grant, publishing: datetime | None = None) -> None:
        """Record a grant; with ``publishing``, as one whose first disclosure is
        still to be confirmed (``confirm_publication``)."""
        entry = {"grant": grant.to_json(), "withdrawn": None}
        if publishing is not None:
            entry["publishing"] = format_time(publishing)
        with self.write_locked():
            state = self.read_state()
            state["grants"].append(entry)
            self.commit(state)

    def publication(self):
        """Held (shared) by every request publishing a new grant, from before it
        records the grant until it confirms or discards it. A process that dies
        lets go of it with its file descriptors, so a grant still unconfirmed
        while nobody holds it was left by a request that will not come back
        (``abandon_unconfirmed``)."""
        return shared_lock(self.directory / ".publishing")

    def publishing_now(self) -> bool:
        """Whether a request holds ``publication`` at this moment: a grant still
        to be confirmed may be its own, not one a dead request left."""
        with try_exclusive_lock(self.directory / ".publishing") as free:
            return not free

    def confirm_publication(self, grant_id: str) -> int:
        """The registry took the grant's first disclosure: it is live from now on.
        Returns the number of the current Workcontext version, to compare with the
        one disclosed (a save meanwhile did not publish under the grant)."""
        with self.write_locked():
            state = self.read_state()
            entry = _entry(state, grant_id)
            if entry is not None and entry.pop("publishing", None) is not None:
                self.commit(state)
            return state["versions"][-1]["version"] if state["versions"] else 0

    def discard_unconfirmed(self, grant_id: str) -> None:
        """Forget a new grant the registry refused, unless the holder has started
        to withdraw it meanwhile (then the withdrawal is its history)."""
        with self.write_locked():
            state = self.read_state()
            entry = _entry(state, grant_id)
            if (entry is None or "publishing" not in entry or entry["withdrawn"]
                    or entry.get("pending")):
                return
            state["grants"].remove(entry)
            self.commit(state)

    def abandon_unconfirmed(self, now: datetime) -> int:
        """Mark every grant whose first disclosure was never confirmed, by a
        request that died on the way, as being withdrawn: the registry may have
        taken the disclosure, and the holder never learned that the grant was made.
        Returns how many; does nothing while any grant is being published."""
        with try_exclusive_lock(self.directory / ".publishing") as free:
            if not free:
                return 0
            with self.write_locked():
                state = self.read_state()
                left = [g for g in state["grants"] if "publishing" in g
                        and not g["withdrawn"] and not g.get("pending")]
                for entry in left:
                    entry["pending"] = format_time(now)
                if left:
                    self.commit(state)
                return len(left)

    def add_grant(self, audience: Audience, purposes: list[str], fields: list[str],
                  valid_until: datetime, now: datetime) -> Grant:
        grant = self.sign_grant(audience, purposes, fields, valid_until, now)
        self.store_grant(grant)
        return grant

    # -- publication -----------------------------------------------------------
    def disclosure(self, grant: Grant, now: datetime) -> dict[str, Any]:
        """A signed disclosure of the current Workcontext under ``grant``.

        Refused for a grant the pod records as withdrawn or being withdrawn; the
        check and the sequence number are taken under one lock, so a publication
        racing a withdrawal either precedes it or does not happen.
        """
        return self.numbered_disclosure(grant, now)[0]

    def numbered_disclosure(self, grant: Grant, now: datetime,
                            present: Callable[[dict[str, Any]], dict[str, Any]]
                            | None = None) -> tuple[dict[str, Any], int]:
        """``disclosure`` and the number of the version it discloses. The version
        is read under the lock that takes the sequence number, so a document with
        a higher number never discloses an older version. ``present``: how the
        version is shown to the registry before it is projected (the intro
        video's address in the pod becomes the registry's address of its copy)."""
        with self.write_locked():
            state = self.read_state()
            if not state["versions"]:
                raise WorkcontextMissing()
            entry = _entry(state, grant.id)
            if entry is not None and (entry["withdrawn"] or entry.get("pending")):
                raise GrantNotLive(grant.id)
            current = state["versions"][-1]
            document = self._read_version(current)
            sequence = self._advance_sequence(state)
        if present is not None:
            document = present(document)
        disclosure = make_disclosure(document, grant, sequence, self._signer(), now)
        return disclosure, current["version"]

    def live_disclosures(self, now: datetime) -> list[dict[str, Any]]:
        """One disclosure per live grant: what to publish after the Workcontext changed."""
        return [self.disclosure(r.grant, now) for r in self.grants() if r.is_live(now)]

    def withdrawal(self, grant_id: str, now: datetime) -> dict[str, Any]:
        """The signed withdrawal of one of this pod's grants, to deliver first. The
        grant is marked pending, so nothing more is published under it."""
        with self.write_locked():
            state = self.read_state()
            entry = _entry(state, grant_id)
            if entry is None:
                raise GrantNotFound(grant_id)
            if not entry["withdrawn"]:
                entry["pending"] = entry.get("pending") or format_time(now)
            sequence = self._advance_sequence(state)
        return make_withdrawal(grant_id, sequence, self._signer(), now)

    def mark_withdrawn(self, grant_id: str, now: datetime,
                       renewed_by: str | None = None) -> None:
        """Record that the registry took the withdrawal; ``renewed_by``: a renewal
        ended the grant, and goes on with the consent under that grant."""
        with self.write_locked():
            state = self.read_state()
            entry = _entry(state, grant_id)
            if entry is None:
                raise GrantNotFound(grant_id)
            if renewed_by is not None and not entry["withdrawn"]:
                entry["renewedBy"] = renewed_by
            entry["withdrawn"] = entry["withdrawn"] or format_time(now)
            entry.pop("pending", None)
            entry.pop("publishing", None)
            self.commit(state)

    def withdraw(self, grant_id: str, now: datetime) -> dict[str, Any]:
        """Mark a grant withdrawn and return the signed withdrawal to deliver."""
        document = self.withdrawal(grant_id, now)
        self.mark_withdrawn(grant_id, now)
        return document

    def erasure_request(self, now: datetime) -> dict[str, Any]:
        """The signed request that the registry purge every disclosure of this
        holder (GDPR art. 17(1) and 19), sequence-numbered like a withdrawal."""
        with self.write_locked():
            sequence = self._advance_sequence(self.read_state())
        body = {"type": ERASURE_TYPE, "holder": self.did, "sequence": sequence,
                "issued": format_time(now)}
        return sign_document(body, self._signer())

    def sign(self, document: dict[str, Any]) -> dict[str, Any]:
        return sign_document(document, self._signer())

    def _advance_sequence(self, state: dict) -> int:
        """Take the next sequence number and persist it with ``state`` (under lock)."""
        state["sequence"] += 1
        self.commit(state)
        return state["sequence"]


# Per thread: the pod directories whose grant lock this thread holds, and how deep.
_GRANT_LOCKS = threading.local()


class _SweepingLock:
    def __init__(self, directory: Path, staging: Path, also: Callable[[], None]):
        self._lock = pod_lock(directory)
        self._staging = staging
        self._also = also

    def __enter__(self) -> None:
        self._lock.__enter__()
        sweep_temporary(self._staging)
        self._also()

    def __exit__(self, *exc) -> None:
        self._lock.__exit__(*exc)


@functools.lru_cache(maxsize=4096)
def _paths(directory: Path) -> tuple[Path, Path, Path, Path]:
    """A pod's staging folder, state file, version log and history index. Every
    request opens its pod afresh, and joining paths cost about a tenth of opening
    one; the joins depend on the directory alone, so they are made once."""
    versions = directory / "versions"
    return (directory / STAGING, directory / "state.bin", versions / versionlog.NAME,
            versions / history.NAME)


def _state_json(state: dict) -> bytes:
    """The state as JSON, by orjson (a tenth of the json module's time on a
    state of 16 versions); a text orjson refuses (a lone surrogate a caller
    passed in a grant) goes through the json module, escaped, as before. Either
    reads back equal with ``_state_from_json``."""
    try:
        return orjson.dumps(state)
    except orjson.JSONEncodeError:
        return json.dumps(state).encode("utf-8")


def _state_from_json(plain: bytes) -> dict:
    """A state written by ``_state_json`` or by the json module: orjson reads
    both as the json module does, except an escaped lone surrogate, which it
    refuses and the json module reads, and an integer of 2**64 or more, which it
    reads as a float. A state's integers are the pod's own counters, offsets
    and sizes, and the bounded parser refuses any above 2**53 in what a caller
    sends, so none comes near."""
    try:
        return orjson.loads(plain)
    except orjson.JSONDecodeError:
        return json.loads(plain)


def compact_json(value: Any) -> bytes:
    """JSON without spaces, in UTF-8 with no ASCII escapes: how the API sends a
    Workcontext, and how a version's plaintext is stored since this form existed.

    orjson writes these bytes in a tenth of the json module's time (which was 2 %
    of a Workcontext write) wherever the two agree: on objects, arrays, strings
    it need not escape, integers, true and false. A writing with an escape (the
    two may spell one differently), a number with a fraction or an exponent
    (spelled differently too), or null (what orjson writes for NaN and
    infinities, which the json module writes as such) is made by the json
    module, as is a value orjson refuses (a lone surrogate, an integer of 64
    bits or more, a key that is no string)."""
    try:
        written = orjson.dumps(value)
    except orjson.JSONEncodeError:
        written = None
    if written is not None and b"\\" not in written:
        # Outside its strings (no quote inside one: nothing is escaped) only
        # numbers, brackets, separators and the three literals remain.
        structure = b"".join(written.split(b'"')[::2])
        if not _NOT_WRITTEN_ALIKE.search(structure.replace(b"true", b"")
                                         .replace(b"false", b"")):
            return written
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_NOT_WRITTEN_ALIKE = re.compile(rb"[.eEn]")


def _plaintext(document: Any) -> tuple[bytes, bool]:
    """A version's plaintext and whether it is in the compact form. A text with a
    lone surrogate has no UTF-8 form (the parser refuses it, but a caller may not
    have parsed): stored escaped, as every version was before."""
    try:
        return compact_json(document), True
    except UnicodeEncodeError:
        return json.dumps(document).encode("utf-8"), False


def _entry_for(number: int, saved: str, blob: bytes, compact: bool) -> dict:
    entry = {"version": number, "saved": saved, "digest": crypto.digest(blob)}
    if compact:
        entry["compact"] = True
    return entry


def _check_precondition(state: dict, if_match: str | None) -> None:
    if if_match is None:
        return
    current = etag_of(state["versions"][-1]) if state["versions"] else None
    if if_match.strip() == "*":
        if current is None:
            raise PreconditionFailed(if_match, None)
        return
    offered = [tag.strip() for tag in if_match.split(",")]
    if current is None or current not in offered:
        raise PreconditionFailed(if_match, current)


def _grant_record(entry: dict, did: str) -> dict:
    """A grant record from an archive: the grant must verify and be the holder's."""
    grant = grant_from_json(entry["grant"])
    if grant.holder != did:
        raise GrantNotFound(grant.id)
    record = {"grant": grant.to_json(), "withdrawn": _text_or_none(entry, "withdrawn")}
    for mark, limit in (("pending", 40), ("publishing", 40), ("renewedBy", 200)):
        value = _text_or_none(entry, mark, limit)
        if value is not None:
            record[mark] = value
    return record


def _text_or_none(entry: dict, key: str, limit: int = 40) -> str | None:
    value = entry.get(key)
    return value if isinstance(value, str) and len(value) <= limit else None


def _entry(state: dict, grant_id: str) -> dict | None:
    return next((g for g in state["grants"] if g["grant"]["id"] == grant_id), None)
