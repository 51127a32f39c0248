"""Grant ids their holder withdrew: a disclosure under one is refused for good.

While the registry knows the holder, ``withdrawn_grant`` holds each such id with
the holder's did (a withdrawal of another holder's grant id is refused, ingest.py).
An erasure deletes those rows with everything else that names the holder, and keeps
of each only a keyed hash of the grant id in ``erased_withdrawal``: no did, no
pseudonym, no grant id. A grant id is a random identifier, and without the
deployment's key the hash can not be told from any other; with both it answers one
question only, whether that grant was withdrawn. So a backup exported before a
withdrawal and imported after an erasure can not disclose again under the grant
the holder withdrew (their withdrawal is their last word on that grant id).

Single disclosures (ingest.py) and bulk ingest (bulk.py) both ask ``withdrawn_among``.
"""

from __future__ import annotations

import hmac

from sqlalchemy import Connection, delete, insert, select

from .db import among
from .tables import ErasedWithdrawal, WithdrawnGrant

T_WITHDRAWN = WithdrawnGrant.__table__
T_ERASED_WITHDRAWAL = ErasedWithdrawal.__table__
_PURPOSE = b"vg-withdrawn-grant\x00"


def grant_key(secret: bytes, grant_id: str) -> str:
    """What an erasure keeps of a withdrawn grant id: keyed, so it can not be
    matched to the id by anyone without the deployment's key."""
    return hmac.digest(secret, _PURPOSE + grant_id.encode("utf-8"), "sha256").hex()


def withdrawn_among(conn: Connection, secret: bytes, grant_ids: list[str]) -> set[str]:
    """The ids among ``grant_ids`` that were withdrawn here, whether the holder is
    still known or was erased since."""
    if not grant_ids:
        return set()
    found = set(conn.execute(select(T_WITHDRAWN.c.grant_id).where(
        among(conn, T_WITHDRAWN.c.grant_id, grant_ids))).scalars())
    rest = [g for g in grant_ids if g not in found]
    if not rest or conn.execute(select(T_ERASED_WITHDRAWAL.c.grant_key).limit(1)
                                ).first() is None:
        # No erasure kept a withdrawn grant, so no keyed hash can be found: none
        # is computed (one HMAC per grant, 4 % of a bulk load's parent process).
        return found
    keys = {grant_key(secret, g): g for g in rest}
    found |= {keys[k] for k in conn.execute(
        select(T_ERASED_WITHDRAWAL.c.grant_key).where(
            among(conn, T_ERASED_WITHDRAWAL.c.grant_key, sorted(keys)))).scalars()}
    return found


def keep_through_erasure(conn: Connection, secret: bytes, holder: str) -> int:
    """Replace the holder's withdrawn grant ids by their keyed hashes (in the
    erasure's transaction); returns how many grants are kept that way."""
    ids = list(conn.execute(select(T_WITHDRAWN.c.grant_id).where(
        T_WITHDRAWN.c.holder_did == holder)).scalars())
    keys = sorted({grant_key(secret, g) for g in ids})
    if keys:
        known = set(conn.execute(select(T_ERASED_WITHDRAWAL.c.grant_key).where(
            among(conn, T_ERASED_WITHDRAWAL.c.grant_key, keys))).scalars())
        fresh = [{"grant_key": k} for k in keys if k not in known]
        if fresh:
            conn.execute(insert(T_ERASED_WITHDRAWAL), fresh)
    conn.execute(delete(T_WITHDRAWN).where(T_WITHDRAWN.c.holder_did == holder))
    return len(keys)
