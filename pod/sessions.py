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

Each process keeps what a token it opened holds (did, passkey, expiry) in memory
until the token expires, so that the session's next requests do not decrypt it
again; the expiry and the signed-out file are checked on every use, and signing
out here drops it at once. Only tokens that opened are kept (at most
``KEPT_TOKENS``, the oldest going first), and a dropped passkey is overwritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, NamedTuple

from consent.keys import b64url, b64url_decode

from . import crypto
from .errors import DecryptionFailed, SessionInvalid

_AD = b"vg-holder-session-v1"
KEPT_TOKENS = 4096  # live sessions whose opened token is kept (``_keep``)


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
        self._kept: dict[str, tuple[str, bytearray, int]] = {}
        self._guard = threading.Lock()

    def issue(self, did: str, kek: bytes, now: datetime) -> str:
        expires = int((now + self.lifetime).timestamp())
        body = json.dumps({"did": did, "key": b64url(kek), "exp": expires}).encode()
        return b64url(crypto.seal(self._secret, body, _AD))

    def open(self, token: str, now: datetime) -> tuple[str, bytes]:
        session = self.opened(token, now)
        return session.did, session.passkey

    def opened(self, token: str, now: datetime) -> Session:
        """The live session ``token`` carries, with its expiry."""
        with self._guard:  # a copy: another thread may wipe the kept key
            kept = self._kept.get(token)
            kept = kept and (kept[0], bytes(kept[1]), kept[2])
        did, passkey, expires = kept or self._unsealed(token)
        if expires <= now.timestamp() or self._was_signed_out(token):
            self._forget(token)
            raise SessionInvalid()
        if kept is None:
            self._keep(token, did, passkey, expires, now)
        return Session(did, passkey, datetime.fromtimestamp(expires, timezone.utc))

    def _unsealed(self, token: str) -> tuple[str, bytes, int]:
        try:
            body = json.loads(crypto.open_sealed(self._secret, b64url_decode(token), _AD))
            return body["did"], b64url_decode(body["key"]), int(body["exp"])
        except (DecryptionFailed, ValueError, TypeError, KeyError) as exc:
            raise SessionInvalid() from exc

    def _keep(self, token: str, did: str, passkey: bytes, expires: int,
              now: datetime) -> None:
        """Keep what a token opened to until it expires: a token always opens to
        the same, and every request of the session would open it again. Only
        tokens that opened are kept, so a forged one costs its full check."""
        with self._guard:
            for old in [t for t, kept in self._kept.items()
                        if kept[2] <= now.timestamp()]:
                _wipe(self._kept.pop(old)[1])
            while len(self._kept) >= KEPT_TOKENS:
                _wipe(self._kept.pop(next(iter(self._kept)))[1])
            self._kept[token] = (did, bytearray(passkey), expires)

    def _forget(self, token: str) -> None:
        with self._guard:
            kept = self._kept.pop(token, None)
        if kept is not None:
            _wipe(kept[1])

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
        path = self._signed_out / _token_name(token)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(str(int(session.expires.timestamp())))
        os.replace(temporary, path)
        self._forget(token)
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


def _wipe(secret: bytearray) -> None:
    secret[:] = bytes(len(secret))
    secret.clear()


def _token_name(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:40] + ".out"
