"""The web pages' cookies and their CSRF tokens.

Every cookie carries the ``__Host-`` prefix: the browser accepts it only with
``Secure``, ``Path=/`` and no ``Domain``, so no other host, not even a subdomain,
can set or overwrite it (RFC 6265bis 4.1.3.2). All are ``HttpOnly`` and
``SameSite=Strict``.

- the session cookie holds a holder's sealed session (``vgs_...``, the same sealed
  token the API hands out: the pod's passkey stays sealed under the server's key and
  the server keeps nothing) or an organisation's session token (``vgw_...``, of
  which the server keeps only the hash, ``registry.Access.open_session``);
- the CSRF cookie holds 32 random bytes; each form carries their HMAC under a server
  secret (a signed double-submit token, OWASP CSRF cheat sheet), so a page on
  another site can neither read nor forge the token, and SameSite=Strict keeps the
  session cookie off its requests besides;
- the language cookie holds ``nl`` or ``en``;
- the notice cookie holds the key of one message to show after a redirect (never
  personal data).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

SESSION = "__Host-vg-sessie"
CSRF = "__Host-vg-csrf"
LANGUAGE = "__Host-vg-taal"
NOTICE = "__Host-vg-melding"
CSRF_FIELD = "csrf"
YEAR = 365 * 24 * 3600


def set_cookie(response: Response, name: str, value: str,
               max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=True,
                        httponly=True, samesite="strict")


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", secure=True, httponly=True,
                           samesite="strict")


def csrf_seed(request: Request) -> str:
    """The browser's CSRF seed; a new one when it has none (set on the response)."""
    seed = request.cookies.get(CSRF, "")
    if len(seed) != 43:
        seed = (getattr(request.state, "new_csrf_seed", None)
                or secrets.token_urlsafe(32))
        request.state.new_csrf_seed = seed
    return seed


def csrf_token(secret: bytes, seed: str) -> str:
    return hmac.new(secret, b"csrf:" + seed.encode("ascii"), hashlib.sha256).hexdigest()


def csrf_valid(secret: bytes, request: Request, token: str | None) -> bool:
    seed = request.cookies.get(CSRF, "")
    if len(seed) != 43 or not token or len(token) != 64:
        return False
    return hmac.compare_digest(csrf_token(secret, seed), token)
