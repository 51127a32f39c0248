"""Holder sessions that any API worker can open: the state travels, sealed, in the token.

A session token is the pod's passkey (the Argon2id output, which opens nothing
without the keyring's shard) and the holder's did with an expiry, encrypted and
authenticated under the server's session key. No server-side session table means no
single process holds sessions (NL API design rule /core/stateless); the passkey never
touches disk. Changing the passphrase or erasing the pod ends every session. Tokens expire; a forged, altered or expired token is one opaque error.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from consent.keys import b64url, b64url_decode

from . import crypto
from .errors import DecryptionFailed, SessionInvalid

_AD = b"vg-holder-session-v1"


class SessionSealer:
    def __init__(self, secret: bytes, lifetime: timedelta = timedelta(minutes=30)):
        if len(secret) != crypto.KEY_BYTES:
            raise ValueError("session secret must be 32 bytes")
        self._secret = secret
        self.lifetime = lifetime

    def issue(self, did: str, kek: bytes, now: datetime) -> str:
        expires = int((now + self.lifetime).timestamp())
        body = json.dumps({"did": did, "key": b64url(kek), "exp": expires}).encode()
        return b64url(crypto.seal(self._secret, body, _AD))

    def open(self, token: str, now: datetime) -> tuple[str, bytes]:
        try:
            body = json.loads(crypto.open_sealed(self._secret, b64url_decode(token), _AD))
        except (DecryptionFailed, ValueError, TypeError) as exc:
            raise SessionInvalid() from exc
        if body["exp"] <= now.timestamp():
            raise SessionInvalid()
        return body["did"], b64url_decode(body["key"])
