"""The holder's inbox: messages sealed to the holder's public key (libsodium sealed
box: X25519 + XSalsa20-Poly1305), readable only with the unlocked pod.

The X25519 key pair is the holder's Ed25519 key converted (libsodium
``crypto_sign_ed25519_*_to_curve25519``), so anyone who knows the did:key can seal a
message to the holder and no one else can open it. The server delivers without any
of the holder's keys: it wraps the sender's sealed message together with who sent it
and when (as the server authenticated them) in a second sealed box, so on disk a
message file says nothing, not even its sender, and the holder reads both layers.

What the inbox does not promise: messages live outside the manifest, because writing
the manifest needs the holder's KEK. Someone with write access to the pod directory
can delete a message or plant one (a sealed box needs only the public key); the
sender recorded inside is what the delivering server authenticated, not a signature
of the sender.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import nacl.bindings
import nacl.exceptions
import nacl.public

from consent import format_time, public_key_from_did

from .errors import DecryptionFailed, InboxFull, MessageNotFound
from .files import atomic_write
from .holder import UnlockedPod

MAX_MESSAGE_BYTES = 16 * 1024
MAX_MESSAGES = 1000
_ID_CHARS = set("0123456789abcdef-")


@dataclass(frozen=True, slots=True)
class Message:
    id: str
    sender: str
    received: str
    body: bytes


def holder_public_key(did: str) -> nacl.public.PublicKey:
    """The X25519 key a sender seals to, derived from the holder's did:key."""
    ed25519 = public_key_from_did(did)
    return nacl.public.PublicKey(nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(ed25519))


def seal_to(did: str, message: bytes) -> bytes:
    """What a sender does: seal ``message`` so only the holder of ``did`` opens it."""
    return nacl.public.SealedBox(holder_public_key(did)).encrypt(message)


def deliver(directory: Path, did: str, sealed: bytes, sender: str,
            now: datetime) -> str:
    """Store a sealed message for the holder; the server holds no key of the pod."""
    folder = directory / "inbox"
    if folder.exists() and sum(1 for _ in folder.glob("*.msg")) >= MAX_MESSAGES:
        raise InboxFull(MAX_MESSAGES)
    message_id = f"{int(now.timestamp()):010d}-{secrets.token_hex(8)}"
    outer = json.dumps({"id": message_id, "sender": sender,
                        "received": format_time(now),
                        "sealed": base64.b64encode(sealed).decode("ascii")})
    atomic_write(folder / f"{message_id}.msg", seal_to(did, outer.encode("utf-8")))
    return message_id


def messages(pod: UnlockedPod) -> list[Message]:
    folder = pod.directory / "inbox"
    if not folder.exists():
        return []
    return [read(pod, path.stem) for path in sorted(folder.glob("*.msg"))]


def read(pod: UnlockedPod, message_id: str) -> Message:
    path = _path(pod, message_id)
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise MessageNotFound(message_id) from exc
    box = nacl.public.SealedBox(_private_key(pod))
    try:
        outer = json.loads(box.decrypt(blob))
        if outer["id"] != message_id:
            raise DecryptionFailed()
        body = box.decrypt(base64.b64decode(outer["sealed"], validate=True))
    except (nacl.exceptions.CryptoError, ValueError, KeyError, TypeError) as exc:
        raise DecryptionFailed() from exc
    return Message(message_id, outer["sender"], outer["received"], body)


def delete(pod: UnlockedPod, message_id: str) -> None:
    path = _path(pod, message_id)
    if not path.exists():
        raise MessageNotFound(message_id)
    read(pod, message_id)  # only the holder, with the keys, deletes
    os.unlink(path)


def _path(pod: UnlockedPod, message_id: str) -> Path:
    if not (0 < len(message_id) <= 40 and set(message_id) <= _ID_CHARS):
        raise MessageNotFound(message_id[:40])
    return pod.directory / "inbox" / f"{message_id}.msg"


def _private_key(pod: UnlockedPod) -> nacl.public.PrivateKey:
    seed = pod.key_material()[0]
    secret = nacl.bindings.crypto_sign_seed_keypair(seed)[1]
    return nacl.public.PrivateKey(nacl.bindings.crypto_sign_ed25519_sk_to_curve25519(secret))
