"""The holder's inbox: messages sealed to the holder's public key (libsodium sealed
box: X25519 + XSalsa20-Poly1305), readable only with the unlocked pod.

The X25519 key pair is the holder's Ed25519 key converted (libsodium
``crypto_sign_ed25519_*_to_curve25519``), so anyone who knows the did:key can seal a
message to the holder and no one else can open it. The server delivers without any
of the holder's keys: it wraps the sender's sealed message together with who sent it
and when (as the server authenticated them) in a second sealed box, so on disk a
message file says nothing, not even its sender, and the holder reads both layers.

Who delivers: the server only, for senders it authenticated itself (in this
system the registry, for ratings between former team members; see
vg/pod_inbox.py). Each delivery names an *origin* (for a rating: the rater), and
one origin holds at most ``MAX_PER_ORIGIN`` messages, far below the inbox's cap
of ``MAX_MESSAGES``, so no single sender can fill it. The origin is kept on disk
only as a tag keyed with a server-held key, in the file name after the message
id: the holder never sees it (so two ratings can not be linked to one rater), and
the disk shows only which files share an origin.

A delivered message whose content can not be opened (the sender sealed garbage,
or to another key) is listed as unreadable with its id, so the holder can delete
it; it never hides the others.

Messages live outside the pod's manifest, because writing the manifest needs the
holder's KEK, which the server does not have when it delivers. The server's keyring
witnesses each delivery instead (id and digest, keyring.py): a witnessed message that
was removed or replaced on disk makes the inbox fail to read (DecryptionFailed), and
a file planted in the folder (a sealed box needs only the public key) is never shown
and is swept by the next delivery or deletion. What stays open is what the keyring
says about rollback in general: restoring the pod folder and the keyring together.
The sender recorded inside is what the delivering server authenticated, not a
signature of the sender.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import nacl.bindings
import nacl.exceptions
import nacl.public

from consent import format_time, public_key_from_did

from . import crypto
from .errors import DecryptionFailed, InboxFull, InboxQuotaReached, MessageNotFound
from .files import STAGING, atomic_write, pod_lock
from .holder import UnlockedPod
from .store import PodStore

MAX_MESSAGE_BYTES = 16 * 1024
MAX_MESSAGES = 1000
MAX_PER_ORIGIN = 20
_ID_CHARS = set("0123456789abcdef-")


@dataclass(frozen=True, slots=True)
class Message:
    """``body`` is None for a message that could not be opened; ``sender`` and
    ``received`` too when not even the server's outer layer opens."""

    id: str
    sender: str | None
    received: str | None
    body: bytes | None

    @property
    def readable(self) -> bool:
        return self.body is not None


def holder_public_key(did: str) -> nacl.public.PublicKey:
    """The X25519 key a sender seals to, derived from the holder's did:key."""
    ed25519 = public_key_from_did(did)
    return nacl.public.PublicKey(nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(ed25519))


def seal_to(did: str, message: bytes) -> bytes:
    """What a sender does: seal ``message`` so only the holder of ``did`` opens it."""
    return nacl.public.SealedBox(holder_public_key(did)).encrypt(message)


def origin_tag(key: bytes, origin: str) -> str:
    """The origin as the disk keeps it: keyed, so it names nobody."""
    return hashlib.blake2b(origin.encode("utf-8"), key=key, digest_size=6,
                           person=b"vg-inbox-origin").hexdigest()


def deliver(pods: PodStore, did: str, sealed: bytes, sender: str,
            now: datetime, origin: tuple[bytes, str] | None = None) -> str:
    """Store a sealed message for the holder and witness it; the server holds no
    key of the pod.

    ``origin`` is (server-held key, who the message comes from) and counts against
    ``MAX_PER_ORIGIN``; without it only the inbox's cap applies."""
    directory, pod_id = pods.directory(did), pods.pod_id(did)
    folder = directory / "inbox"
    tag = origin_tag(*origin) if origin else None
    with pod_lock(directory):
        witnessed = pods.keyring.inbox(pod_id)
        if len(witnessed) >= MAX_MESSAGES:
            raise InboxFull(MAX_MESSAGES)
        _sweep_unwitnessed(folder, witnessed)
        if tag and folder.exists() and sum(
                1 for _ in folder.glob(f"*.{tag}.msg")) >= MAX_PER_ORIGIN:
            raise InboxQuotaReached(MAX_PER_ORIGIN)
        message_id = f"{int(now.timestamp()):010d}-{secrets.token_hex(8)}"
        outer = json.dumps({"id": message_id, "sender": sender,
                            "received": format_time(now),
                            "sealed": base64.b64encode(sealed).decode("ascii")})
        blob = seal_to(did, outer.encode("utf-8"))
        name = f"{message_id}.{tag}.msg" if tag else f"{message_id}.msg"
        # Staged where the pod's writers sweep what a killed writer left (files.py).
        atomic_write(folder / name, blob, staging=directory / STAGING)
        pods.keyring.witness_message(pod_id, message_id, crypto.digest(blob))
    return message_id


def messages(pod: UnlockedPod) -> list[Message]:
    """Every witnessed message, oldest first; one whose content does not open is
    listed as unreadable with its id (so the holder can delete it), never hiding
    the others."""
    witnessed = pod.witnessed_messages()
    return [_open(pod, message_id, witnessed) for message_id in sorted(witnessed)]


def read(pod: UnlockedPod, message_id: str) -> Message:
    _path(pod, message_id)
    return _open(pod, message_id, pod.witnessed_messages())


def delete(pod: UnlockedPod, message_id: str) -> None:
    """Only the holder, with the keys, deletes, readable or not. The witness
    forgets the message before the file goes, so a crash in between leaves a file
    nobody shows."""
    path = _path(pod, message_id)
    with pod.write_locked():
        witnessed = pod.witnessed_messages()
        _open(pod, message_id, witnessed)
        pod.witness_deleted_message(message_id)
        path.unlink(missing_ok=True)
        del witnessed[message_id]
        _sweep_unwitnessed(path.parent, witnessed)


def _open(pod: UnlockedPod, message_id: str, witnessed: dict[str, str]) -> Message:
    """A file changed or removed on disk after delivery fails loudly (the witness
    does not match); content the server delivered but nobody can open is listed
    as unreadable."""
    if message_id not in witnessed:
        raise MessageNotFound(message_id[:40])
    try:
        blob = _path(pod, message_id).read_bytes()
    except (OSError, MessageNotFound) as exc:
        raise DecryptionFailed() from exc
    if crypto.digest(blob) != witnessed[message_id]:
        raise DecryptionFailed()
    box = nacl.public.SealedBox(_private_key(pod))
    try:
        outer = json.loads(box.decrypt(blob))
        sender, received = outer["sender"], outer["received"]
        if outer["id"] != message_id or not (
                isinstance(sender, str) and isinstance(received, str)):
            raise ValueError("not this message")
    except (nacl.exceptions.CryptoError, ValueError, KeyError, TypeError):
        return Message(message_id, None, None, None)
    try:
        body = box.decrypt(base64.b64decode(outer["sealed"], validate=True))
    except (nacl.exceptions.CryptoError, ValueError, KeyError, TypeError):
        body = None
    return Message(message_id, sender, received, body)


def _id_of(path: Path) -> str:
    return path.name.split(".", 1)[0]


def _sweep_unwitnessed(folder: Path, witnessed: dict[str, str]) -> None:
    """Remove message files no delivery witnessed (planted, or left by a crash
    between the file and the witness); under the pod's lock."""
    if folder.exists():
        for path in folder.glob("*.msg"):
            if _id_of(path) not in witnessed:
                path.unlink(missing_ok=True)


def _path(pod: UnlockedPod, message_id: str) -> Path:
    """The file of ``message_id``, with or without an origin tag after it."""
    if not (0 < len(message_id) <= 40 and set(message_id) <= _ID_CHARS):
        raise MessageNotFound(message_id[:40])
    folder = pod.directory / "inbox"
    plain = folder / f"{message_id}.msg"
    if plain.exists():
        return plain
    tagged = sorted(folder.glob(f"{message_id}.*.msg")) if folder.exists() else []
    if not tagged:
        raise MessageNotFound(message_id)
    return tagged[0]


def _private_key(pod: UnlockedPod) -> nacl.public.PrivateKey:
    seed = pod.key_material()[0]
    secret = nacl.bindings.crypto_sign_seed_keypair(seed)[1]
    return nacl.public.PrivateKey(nacl.bindings.crypto_sign_ed25519_sk_to_curve25519(secret))
