"""Holder sessions that any API worker can open: the state travels, sealed, in the token.

A session token is the pod's passkey (the Argon2id output, which opens nothing
without the keyring's shard) and the holder's did with an expiry, encrypted and
authenticated under the server's session key. No server-side session table means no
single process holds sessions (NL API design rule /core/stateless); the passkey never
touches disk. Changing the passphrase or erasing the pod ends every session. Tokens
expire; a forged, altered or expired token is one opaque error.

Signing out ends one session before it expires: the server keeps a hash of the token
(never the token) in ``signed_out_dir`` until the token's own expiry, one file per
token so that every worker sees it, and refuses a token found there.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, NamedTuple

from consent.keys import b64url, b64url_decode

from . import crypto
from .errors import DecryptionFailed, SessionInvalid

_AD = b"vg-holder-session-v1"


class Session(NamedTuple):
    did: str
    passkey: bytes
    expires: datetime


class SessionSealer:
    """``ended``: told the did of each session this process signs out, so that
    what it kept open for the session goes at once (``PodStore.opened``)."""

    def __init__(self, secret: bytes, lifetime: timedelta = timedelta(minutes=30),
                 signed_out_dir: Path | None = None,
                 ended: Callable[[str], None] | None = None):
        if len(secret) != crypto.KEY_BYTES:
            raise ValueError("session secret must be 32 bytes")
        self._secret = secret
        self.lifetime = lifetime
        self._signed_out = signed_out_dir
        self._ended = ended

    def issue(self, did: str, kek: bytes, now: datetime) -> str:
        expires = int((now + self.lifetime).timestamp())
        body = json.dumps({"did": did, "key": b64url(kek), "exp": expires}).encode()
        return b64url(crypto.seal(self._secret, body, _AD))

    def open(self, token: str, now: datetime) -> tuple[str, bytes]:
        session = self.opened(token, now)
        return session.did, session.passkey

    def opened(self, token: str, now: datetime) -> Session:
        """The live session ``token`` carries, with its expiry."""
        try:
            body = json.loads(crypto.open_sealed(self._secret, b64url_decode(token), _AD))
        except (DecryptionFailed, ValueError, TypeError) as exc:
            raise SessionInvalid() from exc
        if body["exp"] <= now.timestamp() or self._was_signed_out(token):
            raise SessionInvalid()
        return Session(body["did"], b64url_decode(body["key"]),
                       datetime.fromtimestamp(body["exp"], timezone.utc))

    def sign_out(self, token: str, now: datetime) -> None:
        """End this session now; forged or expired tokens need nothing."""
        try:
            session = self.opened(token, now)
        except SessionInvalid:
            return
        if self._signed_out is None:
            raise RuntimeError("this server keeps no signed-out sessions")
        self._signed_out.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._sweep(now)
        body = json.loads(crypto.open_sealed(self._secret, b64url_decode(token), _AD))
        path = self._signed_out / _token_name(token)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(str(body["exp"]))
        os.replace(temporary, path)
        if self._ended is not None:
            self._ended(session.did)

    def _was_signed_out(self, token: str) -> bool:
        # Every request of a holder asks this: a string join and one stat, not a
        # Path built for it.
        return (self._signed_out is not None
                and os.path.exists(os.path.join(self._signed_out, _token_name(token))))

    def _sweep(self, now: datetime) -> None:
        """Forget signed-out tokens that have expired anyway."""
        for path in self._signed_out.glob("*.out"):
            try:
                if int(path.read_text()) <= now.timestamp():
                    path.unlink(missing_ok=True)
            except (OSError, ValueError):
                continue


def _token_name(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:40] + ".out"
