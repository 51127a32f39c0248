"""Copies of intro videos that holders shared under a grant (consent/video_share.py).

A copy is taken only for a disclosure of the same holder and grant that names it in
``introVideo.contentUrl`` and grants ``intro_video`` (invariant 1). Its chunks are
opened as they arrive, so a copy stored here is one that opens, and written to an
``.upload-*`` file, at most one chunk in memory. The row (with the sealed data key)
is committed first, the file renamed to ``<share id>.bin`` after: a ``.bin`` file
without a row is therefore always one whose row was deleted, and ``sweep`` removes
it whatever other process may be receiving at the time.

Deleting the row destroys the only sealed copy of the data key: the ciphertext then
opens for no one. Rows go with the grant's withdrawal (ingest.py), expiry (gate.py),
the holder's erasure (erasure.py, through the ``holder_did`` mark) and a newer copy
under the same grant (``receive``); the files follow on the next ``sweep``, which the
registry runs after each of these and the server once a minute.

A holder's copies together hold at most ``MAX_SHARE_BYTES`` (4 GiB, the pod's own
ceiling for files), so the number of grants can not multiply a video without bound.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.public
from sqlalchemy import Connection, Engine, delete, func, insert, select

from consent import InvalidVideoShare, ProjectionMismatch
from consent.video_share import (
    CHUNK,
    CHUNK_OVERHEAD,
    MAX_SHARE_BYTES,
    VideoOffer,
    chunk_count,
    open_chunk,
    read_offer,
    sealed_size,
    share_in,
)

from .db import take_turn, transaction
from .errors import StorageFailed, VideoNotFound
from .errors_work import LimitReached
from .tables import Disclosure
from .tables_video import VideoShare

D = Disclosure.__table__
V = VideoShare.__table__
SEALED_CHUNK = CHUNK + CHUNK_OVERHEAD
UPLOAD_PREFIX = ".upload-"
STALE_UPLOAD = 6 * 3600
_SWEEP_BATCH = 500


@dataclass(frozen=True, slots=True)
class StoredShare:
    share_id: str
    grant_id: str
    holder_did: str
    media_type: str
    size: int
    sealed_key: bytes
    prefix: bytes


class VideoShares:
    def __init__(self, engine: Engine, directory: Path, secret: bytes):
        self._engine = engine
        self._dir = directory
        self._key = nacl.public.PrivateKey(secret)

    @property
    def public_key(self) -> bytes:
        """The X25519 key a pod seals a copy's data key to."""
        return bytes(self._key.public_key)

    def holds(self, share: str) -> bool:
        """Whether a whole copy of ``share`` is here (its row and its file)."""
        return (self.stored(share) is not None
                and self._path(share).exists())

    def stored(self, share: str, conn: Connection | None = None) -> StoredShare | None:
        query = select(V).where(V.c.share_id == share)
        if conn is not None:
            row = conn.execute(query).first()
        else:
            with transaction(self._engine) as own:
                row = own.execute(query).first()
        return None if row is None else StoredShare(
            row.share_id, row.grant_id, row.holder_did, row.media_type, row.size,
            row.sealed_key, row.prefix)

    # -- receiving --------------------------------------------------------------------
    def receive(self, document: Any, chunks: Iterable[bytes], now: datetime) -> str:
        """Take a copy offered with ``document``; returns its share id. A copy
        that does not open, or that no disclosure names, is refused
        (InvalidVideoShare) and leaves nothing."""
        offer = read_offer(document)
        key = self._unseal(offer.sealed_key)
        with transaction(self._engine) as conn:
            _check_named(conn, offer)
            _check_room(conn, offer)
        upload = self._write(offer, key, chunks)
        try:
            with transaction(self._engine) as conn:
                _check_named(conn, offer)  # a withdrawal may have come meanwhile
                _check_room(conn, offer)
                if self.stored(offer.share, conn) and self._path(offer.share).exists():
                    # The same copy from a concurrent publication: the first stays,
                    # so its key and its file never part.
                    return offer.share
                conn.execute(delete(V).where(V.c.grant_id == offer.grant_id,
                                             V.c.holder_did == offer.holder))
                conn.execute(insert(V).values(
                    share_id=offer.share, grant_id=offer.grant_id,
                    holder_did=offer.holder, media_type=offer.media_type,
                    size=offer.size, sealed_key=offer.sealed_key,
                    prefix=offer.prefix, received=now))
            os.replace(upload, self._path(offer.share))
            _fsync_dir(self._dir)
        finally:
            upload.unlink(missing_ok=True)
        self.sweep()
        return offer.share

    def _unseal(self, sealed: bytes) -> bytes:
        try:
            return nacl.public.SealedBox(self._key).decrypt(sealed)
        except (nacl.exceptions.CryptoError, ValueError, TypeError) as exc:
            raise InvalidVideoShare() from exc

    def _write(self, offer: VideoOffer, key: bytes, chunks: Iterable[bytes]) -> Path:
        """The chunks into an upload file, each opened before it is kept."""
        expected, count = sealed_size(offer.size), chunk_count(offer.size)
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=UPLOAD_PREFIX, dir=self._dir)
        except OSError as exc:
            raise StorageFailed() from exc
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as handle:
                pending, index, received = bytearray(), 0, 0
                for piece in chunks:
                    received += len(piece)
                    if received > expected:
                        raise InvalidVideoShare()
                    pending += piece
                    while len(pending) >= SEALED_CHUNK and index < count - 1:
                        _check_chunk(key, offer, index, False, pending[:SEALED_CHUNK])
                        handle.write(pending[:SEALED_CHUNK])
                        del pending[:SEALED_CHUNK]
                        index += 1
                if received != expected or index != count - 1:
                    raise InvalidVideoShare()
                _check_chunk(key, offer, index, True, pending)
                handle.write(pending)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path

    # -- serving ----------------------------------------------------------------------
    def read_range(self, share: StoredShare, start: int, end: int) -> Iterator[bytes]:
        """Plaintext bytes ``start`` to ``end`` inclusive, opening only the chunks
        the range touches. The file is opened here, before the first byte is
        asked for: a copy that is gone is VideoNotFound, not a broken answer."""
        key = self._unseal(share.sealed_key)
        try:
            handle = open(self._path(share.share_id), "rb")
        except OSError as exc:
            raise VideoNotFound(share.share_id) from exc
        if os.fstat(handle.fileno()).st_size != sealed_size(share.size):
            handle.close()
            raise InvalidVideoShare()
        return _chunks(handle, key, share, start, end)

    # -- removal ----------------------------------------------------------------------
    def sweep(self) -> int:
        """Remove every copy whose row is gone, and uploads abandoned for hours;
        returns how many files went."""
        try:
            entries = list(os.scandir(self._dir))
        except FileNotFoundError:
            return 0
        now, removed = time.time(), 0
        names = {}
        for entry in entries:
            if entry.name.startswith(UPLOAD_PREFIX):
                if now - entry.stat().st_mtime > STALE_UPLOAD:
                    removed += _unlink(Path(entry.path))
            elif entry.name.endswith(".bin"):
                names[entry.name[:-4]] = Path(entry.path)
        shares = sorted(names)
        for first in range(0, len(shares), _SWEEP_BATCH):
            batch = shares[first:first + _SWEEP_BATCH]
            with transaction(self._engine) as conn:
                kept = set(conn.execute(select(V.c.share_id).where(
                    V.c.share_id.in_(batch))).scalars())
            removed += sum(_unlink(names[s]) for s in batch if s not in kept)
        return removed

    def _path(self, share: str) -> Path:
        return self._dir / f"{share}.bin"


def drop_for_grant(conn: Connection, grant_id: str, holder: str,
                   keep: str | None = None) -> int:
    """Delete the grant's copies (but ``keep``, the one its new disclosure names):
    their data keys are gone with the rows; ``sweep`` removes the files."""
    condition = [V.c.grant_id == grant_id, V.c.holder_did == holder]
    if keep is not None:
        condition.append(V.c.share_id != keep)
    return conn.execute(delete(V).where(*condition)).rowcount


def drop_for_grants(conn: Connection, grant_ids) -> None:
    """Delete the copies under the grants ``grant_ids`` (a select of grant ids)."""
    conn.execute(delete(V).where(V.c.grant_id.in_(grant_ids)))


def named_share(fields, projection: dict) -> str | None:
    """The share a disclosure's projection names, when it grants ``intro_video``."""
    video = projection.get("introVideo")
    if "intro_video" not in fields or not isinstance(video, dict):
        return None
    return share_in(video.get("contentUrl"))


def check_own_share(conn: Connection, share: str | None, grant_id: str,
                    holder: str, batch: Mapping[str, tuple[str, str]] | None = None,
                    replaced: AbstractSet[str] = frozenset()) -> None:
    """A disclosure may name only its own grant's copy (``share``, the one its
    projection names: ``named_share``). A copy this registry holds for another
    grant (of another holder, or of the same), or one another grant's stored
    disclosure names and whose copy has not arrived yet (it follows its
    disclosure; it may never come, the registry unavailable or the holder over
    the ceiling), would put that video on this holder's card: refused as
    ProjectionMismatch on ``introVideo.contentUrl``. The disclosure column
    ``video_share`` is what finds the second kind without reading projections.

    Bulk ingest passes what its batch did so far: ``batch``, the share each grant
    taken in it names, by share, and ``replaced``, the grants taken in it whose
    stored rows it replaces (those rows name nothing any more)."""
    if share is None:
        return
    take_turn(conn, D, f"video-share|{share}")  # two first namers: one waits
    ours = (grant_id, holder)
    if batch is not None and batch.get(share, ours) != ours:
        raise ProjectionMismatch(["introVideo.contentUrl"])
    copies = select(V.c.grant_id, V.c.holder_did).where(V.c.share_id == share)
    naming = select(D.c.grant_id, D.c.holder_did).where(D.c.video_share == share)
    for owner in conn.execute(copies.union_all(naming)):
        if (owner.grant_id, owner.holder_did) != ours and (
                owner.grant_id not in replaced):
            raise ProjectionMismatch(["introVideo.contentUrl"])


def _check_named(conn: Connection, offer: VideoOffer) -> None:
    """The holder's disclosure under the grant must grant ``intro_video`` and name
    this very share: the signed disclosure is what allows the copy."""
    row = conn.execute(select(D.c.fields, D.c.projection).where(
        D.c.grant_id == offer.grant_id, D.c.holder_did == offer.holder)).first()
    if row is None or named_share(row.fields.split(),
                                  json.loads(row.projection)) != offer.share:
        raise InvalidVideoShare()


def _check_room(conn: Connection, offer: VideoOffer) -> None:
    """The holder's other copies (not this grant's, which this one replaces) and
    this one together stay within ``MAX_SHARE_BYTES``."""
    held = conn.execute(select(func.coalesce(func.sum(V.c.size), 0)).where(
        V.c.holder_did == offer.holder, V.c.grant_id != offer.grant_id)).scalar_one()
    if held + offer.size > MAX_SHARE_BYTES:
        raise LimitReached(MAX_SHARE_BYTES, "bytes of shared video per holder")


def _check_chunk(key: bytes, offer: VideoOffer, index: int, final: bool,
                 sealed: bytes | bytearray) -> None:
    open_chunk(key, offer.prefix, offer.share, index, final, bytes(sealed))


def _chunks(handle, key: bytes, share: StoredShare, start: int,
            end: int) -> Iterator[bytes]:
    count = chunk_count(share.size)
    with handle:
        for index in range(start // CHUNK, end // CHUNK + 1):
            handle.seek(index * SEALED_CHUNK)
            plain = open_chunk(key, share.prefix, share.share_id, index,
                               index == count - 1, handle.read(SEALED_CHUNK))
            lo = start - index * CHUNK if index == start // CHUNK else 0
            hi = end - index * CHUNK + 1 if index == end // CHUNK else len(plain)
            yield plain[lo:hi]


def _unlink(path: Path) -> int:
    try:
        path.unlink()
    except FileNotFoundError:
        return 0
    return 1


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
