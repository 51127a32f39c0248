"""Prune records: what retention appends when it deletes a prefix of the log.

A prune record is an access record of the actor ``PRUNE_ACTOR`` whose ``target``
says where the cut lies (and, since prune records are signed, before when every
pruned record was made) and whose ``reason`` carries the log key's signature
over its place, its cut and its time (``prune_statement``). ``verify`` accepts a
pruned prefix only from such a record: anyone who can write the tables can
append a record and recompute every hash, only the key holder can sign.

Prune records written before they were signed name only the cut and carry no
signature. ``verify`` accepts one of those only where a checkpoint signed with
the log's key covers it (its tree holds the record, and the pruned records' kept
leaf hashes rebuild the signed root): the key vouched for the log with the prune
in it. So that a record appended now, without the key, can not win that vouching,
the log refuses to sign a checkpoint over an unsigned prune record
(``first_unsigned``).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, select

from audit.entry import AccessRecord, from_epoch_ms, iso_ms, to_epoch_ms
from audit.errors import InvalidAuditEntry
from audit.note import Signer, Verifier
from audit.tables import AuditTables, row_record

PRUNE_ACTOR = "system:retention"
_REASON = "retention period of the audit log passed"
# The cut, then (since prune records are signed) the time before which every
# pruned record was made.
_TARGET = re.compile(
    r"records before index (0|[1-9][0-9]{0,18})(?:, made before (\S+))?")
_SIGNATURE = re.compile(r"; signed by (\S+) ([A-Za-z0-9+/=]+)\Z")
_KIND = ("prune", "pruned", "system", "platform", "system")


class Cut(NamedTuple):
    """What a prune record claims: the records before ``cutoff`` were deleted,
    all made before ``before`` (None in a record from before that was said)."""

    cutoff: int
    before: datetime | None


class NotAPrune(ValueError):
    """A record of the retention's actor that is no prune record the log wrote:
    not of a prune's kind or target, or (``timeless``) naming a time that is
    none."""

    def __init__(self, timeless: bool = False) -> None:
        super().__init__("names no valid time" if timeless else "no prune record")
        self.timeless = timeless


def prune_record(index: int, cutoff: int, before_ms: int, deleted: int,
                 now: datetime, signer: Signer | None) -> AccessRecord:
    """The access record of a prune, to be appended at ``index``, signed with
    ``signer`` when there is one (``prune_statement``)."""
    now = from_epoch_ms(to_epoch_ms(now))  # as the record stores it: UTC, in ms
    target = (f"records before index {cutoff}, made before "
              f"{iso_ms(from_epoch_ms(before_ms))}")
    reason = _REASON
    if signer is not None:
        note = signer.sign(prune_statement(signer.name, index, target, now))
        reason += f"; signed by {signer.name} {note.rsplit(' ', 1)[1].strip()}"
    return AccessRecord(
        trace_id=secrets.token_hex(16), span_id=secrets.token_hex(8), occurred_at=now,
        actor=PRUNE_ACTOR, organisation="platform", role="system",
        action="prune", target=target, result="pruned", origin="system",
        subjects=deleted, reason=reason)


def prune_statement(origin: str, index: int, target: str, when: datetime) -> str:
    """The text a prune record's signature covers: the log, the record's place in
    it, the cut and the time, so a signature can not be moved to another record."""
    return (f"{origin}\nprune record {index}\n{target}\n"
            f"at {iso_ms(when)}\n")


def read_cut(record: AccessRecord) -> Cut:
    """The cut a prune record claims; ``NotAPrune`` if it is none, or names a
    time that is not one."""
    target = _TARGET.fullmatch(record.target)
    kind = (record.action, record.result, record.origin, record.organisation,
            record.role)
    if target is None or kind != _KIND:
        raise NotAPrune()
    before = None
    if target.group(2) is not None:
        try:
            before = datetime.fromisoformat(target.group(2).replace("Z", "+00:00"))
        except ValueError:
            raise NotAPrune(timeless=True) from None
        if before.utcoffset() is None:
            raise NotAPrune(timeless=True)
    return Cut(int(target.group(1)), before)


def signed_by(verifier: Verifier, index: int, record: AccessRecord) -> bool:
    """Whether the prune record at ``index`` carries ``verifier``'s signature
    over that place, its target and its time."""
    signed = _SIGNATURE.search(record.reason)
    if signed is None or signed.group(1) != verifier.name:
        return False
    try:
        raw = base64.b64decode(signed.group(2), validate=True)
    except binascii.Error:
        return False
    statement = prune_statement(verifier.name, index, record.target,
                                record.occurred_at)
    return raw[:4] == verifier.id and verifier.verifies(statement.encode(), raw[4:])


def first_unsigned(conn: Connection, tables: AuditTables, start: int, end: int,
                   verifier: Verifier) -> int | None:
    """The index of the first record from ``start`` to before ``end`` of the
    retention's actor that is no prune record signed with ``verifier``, if any:
    a checkpoint over it would vouch for it (see the module docstring).

    Read from the access records themselves, by their primary key: only what
    the log has since the last checkpoint, so over the log's life each access
    record is read once (a fraction of a microsecond, against the tens its
    append costs), and no table written behind the log, which a log at an
    earlier revision lacks, is needed. Known shortcoming: the first checkpoint
    after a long time without one reads all the access records since, under
    the head's lock: on SQLite 0.7 ms of CPU for 5,080 (a log of 55,880
    records), so some 0.15 s a million; an index on the actor would make it
    constant and cost every append a page of its commit (``audit.tables``)."""
    access = tables.access
    stmt = select(access).where(access.c.idx >= start, access.c.idx < end,
                                access.c.actor == PRUNE_ACTOR).order_by(access.c.idx)
    for row in conn.execute(stmt).mappings():
        if not _signed_prune_row(verifier, row):
            return int(row["idx"])
    return None


def _signed_prune_row(verifier: Verifier, row: Any) -> bool:
    try:
        record = row_record(AccessRecord, row)
        read_cut(record)  # type: ignore[arg-type]
    except (InvalidAuditEntry, NotAPrune):
        return False
    return signed_by(verifier, row["idx"], record)  # type: ignore[arg-type]
