"""Organisations and their API keys.

A key is 32 random bytes shown once; only its SHA-256 is stored. A fast hash is right
here (unlike for passphrases): the key has 256 bits of entropy, so there is nothing to
guess, and the lookup must be cheap on every request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import Engine, delete, insert, select, update

from .db import transaction
from .errors import NotAuthenticated
from .gate import Requester
from .tables import ApiKey, Organisation, WebSession

T_ORG = Organisation.__table__
T_KEY = ApiKey.__table__
T_WEB = WebSession.__table__
ROLES = ("staff", "dpo", "platform-dpo")
KEY_PREFIX = "vgk_"
SESSION_PREFIX = "vgw_"


@dataclass(frozen=True, slots=True)
class OrganisationRow:
    code: str
    name: str
    sector: str
    province_code: str | None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class Access:
    def __init__(self, engine: Engine):
        self._engine = engine

    def seed(self, organisations: list[OrganisationRow]) -> int:
        """Insert organisations that are not there yet; returns how many were new."""
        with transaction(self._engine) as conn:
            known = set(conn.execute(select(T_ORG.c.code)).scalars())
            rows = [_row(o) for o in organisations if o.code not in known]
            if rows:
                conn.execute(insert(T_ORG), rows)
        return len(rows)

    def issue_key(self, organisation: str, role: str, label: str, now: datetime) -> str:
        if role not in ROLES:
            raise ValueError("role must be one of " + ", ".join(ROLES))
        if not 1 <= len(label) <= 80 or not label.isprintable():
            raise ValueError("label must be 1 to 80 printable characters")
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        with transaction(self._engine) as conn:
            conn.execute(insert(T_KEY).values(
                key_hash=hash_key(key), organisation=organisation, role=role,
                label=label, created=now))
        return key

    def authenticate(self, key: str | None) -> Requester:
        """The requester behind an API key; one opaque error for every failure."""
        if not key or not key.startswith(KEY_PREFIX) or len(key) > 100:
            raise NotAuthenticated()
        with transaction(self._engine) as conn:
            row = conn.execute(select(T_KEY).where(
                T_KEY.c.key_hash == hash_key(key))).first()
        if row is None:
            raise NotAuthenticated()
        return Requester(row.organisation, f"apikey:{row.id}", row.role)

    def open_session(self, key: str | None, now: datetime,
                     lifetime: timedelta) -> str:
        """Exchange an API key for a browser session token. The browser never keeps
        the key; the server keeps only the token's hash, like the key's."""
        requester = self.authenticate(key)
        key_id = int(requester.actor.removeprefix("apikey:"))
        token = SESSION_PREFIX + secrets.token_urlsafe(32)
        with transaction(self._engine) as conn:
            conn.execute(delete(T_WEB).where(T_WEB.c.expires <= now))
            conn.execute(insert(T_WEB).values(token_hash=hash_key(token),
                                              key_id=key_id, expires=now + lifetime))
        return token

    def session(self, token: str | None, now: datetime) -> Requester:
        """The requester behind a live session; one opaque error for every failure."""
        if not token or not token.startswith(SESSION_PREFIX) or len(token) > 100:
            raise NotAuthenticated()
        query = (select(T_KEY, T_WEB.c.expires)
                 .join(T_WEB, T_WEB.c.key_id == T_KEY.c.id)
                 .where(T_WEB.c.token_hash == hash_key(token)))
        with transaction(self._engine) as conn:
            row = conn.execute(query).first()
        if row is None or _aware(row.expires) <= now:
            raise NotAuthenticated()
        return Requester(row.organisation, f"apikey:{row.id}", row.role)

    def close_session(self, token: str | None) -> None:
        if token:
            with transaction(self._engine) as conn:
                conn.execute(delete(T_WEB).where(T_WEB.c.token_hash == hash_key(token)))

    def keys(self, organisation: str | None = None) -> list:
        query = select(T_KEY.c.id, T_KEY.c.organisation, T_KEY.c.role, T_KEY.c.label,
                       T_KEY.c.created).where(T_KEY.c.revoked.is_(None)
                                              ).order_by(T_KEY.c.id)
        if organisation is not None:
            query = query.where(T_KEY.c.organisation == organisation)
        with transaction(self._engine) as conn:
            return conn.execute(query).all()

    def revoke(self, key_id: int, now: datetime) -> str:
        """Replace a key's hash, so the key authenticates nothing any more; the
        answer says "revoked", "already revoked" or "unknown"."""
        with transaction(self._engine) as conn:
            row = conn.execute(select(T_KEY.c.revoked).where(
                T_KEY.c.id == key_id)).first()
            if row is None:
                return "unknown"
            if row.revoked is not None:
                return "already revoked"
            conn.execute(delete(T_WEB).where(T_WEB.c.key_id == key_id))
            conn.execute(update(T_KEY).where(T_KEY.c.id == key_id).values(
                key_hash=f"revoked:{key_id}", revoked=now))
        return "revoked"

    def organisation(self, code: str) -> OrganisationRow | None:
        with transaction(self._engine) as conn:
            row = conn.execute(select(T_ORG).where(T_ORG.c.code == code)).first()
        return OrganisationRow(row.code, row.name, row.sector, row.province_code) if row else None


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _row(o: OrganisationRow) -> dict:
    return {"code": o.code, "name": o.name, "sector": o.sector,
            "province_code": o.province_code}
