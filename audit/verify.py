"""Verification of the whole log, trusting no stored hash (DESIGN.md invariant 7).

In one snapshot: every stored record is re-encoded and re-hashed and its leaf
compared with the stored leaf hash (a change, insertion, deletion or reordering is
named by its index); the tree is rebuilt from those leaves and compared with the
head; every stored tile above the leaves is checked against the hashes rebuilt from
the leaves (proofs are made from them), and every stored node hash of a full tile
against the ones its checked hashes give (proofs read them too); every signed
checkpoint stored in the log, and the one the caller saved earlier, must match the
rebuilt tree at its size, which catches a rollback and a rewrite of history with
fresh hashes. A rewrite is placed between the last checkpoint that still matches and
the first that does not. Each stored checkpoint row must also file the size and root
its signed note names (signing the next checkpoint compares the tree with the row),
and the head's frontier must be the right edge rebuilt from the leaves (every later
append grows from it). A stored value that can not even be read (not hex, not a
number) is reported as tampering with the log, not as a database out of reach.
Pruned records (retention) are covered by their kept leaf hashes, and the pruned
prefix by the prune records: the head's count of pruned records is trusted only
where the last prune record the log keeps cuts, signed with the log's key or,
written before prune records were signed, inside a signed checkpoint that
matches the rebuilt tree (``_check_prunes``, ``audit.prunes``). The tables
written behind the log from the records (the subjects index, the entries' and
the access records' keys) must hold exactly the records below their mark
(``_check_indexes``).

It streams, so memory stays flat (plus one hash per 256 leaves), but runs in one
thread at some ten to twenty thousand records a second (bench/results/audit.json): a
log of ten million records takes ten to fifteen minutes to verify. Checking only the
part after the last checkpoint verified earlier would make routine runs short; that
is not there yet.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, exists, func, or_, select
from sqlalchemy.exc import SQLAlchemyError

from audit import merkle, tiles
from audit.entry import AccessRecord, AuditEntry, iso_ms
from audit.errors import AuditError, AuditUnavailable, InvalidAuditEntry
from audit.errors import InvalidCheckpoint
from audit.log import Head, MerkleLog
from audit.prunes import PRUNE_ACTOR, NotAPrune, read_cut, signed_by
from audit.note import Checkpoint, NoteError, Verifier, open_checkpoint
from audit.tables import decode

_BATCH = 5000


@dataclass(frozen=True)
class VerifyReport:
    """``size``/``root_hash``: the longest prefix that verified (all of it if ok)."""

    ok: bool
    size: int
    root_hash: str
    pruned: int = 0
    checkpoints: int = 0
    first_bad_index: int | None = None
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "size": self.size, "rootHash": self.root_hash,
                "pruned": self.pruned, "checkpointsChecked": self.checkpoints,
                "firstBadIndex": self.first_bad_index, "problem": self.problem}


class _Bad(Exception):
    def __init__(self, index: int | None, problem: str) -> None:
        super().__init__(problem)
        self.index, self.problem = index, problem


def verify_log(log: MerkleLog, checkpoint: str | None = None,
               verifier: Verifier | None = None,
               retention: timedelta | None = None) -> VerifyReport:
    """Verify ``log``; with ``checkpoint`` (a signed note saved earlier) also that
    the log still holds exactly the tree it signed. ``verifier`` defaults to the
    log's own key; pass the key you obtained independently to trust nothing here.
    With ``retention`` also that no prune deleted records younger than that."""
    verifier = verifier or log.verifier
    saved = _saved_checkpoint(checkpoint, verifier)
    walk, signed = _Walk(), []
    try:
        with _snapshot(log) as conn:
            head, frontier = _read_head(log, conn)
            signed = _signed_checkpoints(log, conn, verifier, saved)
            walk.sizes = {size for size, _ in signed}
            walk.run(log, conn, head)
            _check_frontier(walk, frontier)
            _check_upper_levels(log, conn, head.size, walk.upper)
            _check_tile_nodes(log, conn)
            _check_indexes(log, conn, head)
        _check_checkpoints(walk, signed)
        _check_prunes(walk.prunes, head.pruned, verifier, retention,
                      max((size for size, _ in signed), default=0))
    except _Bad as bad:
        return VerifyReport(False, walk.good, walk.root().hex(), walk.pruned,
                            len(signed), bad.index, bad.problem)
    return VerifyReport(True, walk.good, walk.root().hex(), walk.pruned, len(signed))


def _saved_checkpoint(note: str | None, verifier: Verifier | None
                      ) -> Checkpoint | None:
    if note is None:
        return None
    if verifier is None:
        raise InvalidCheckpoint("a checkpoint needs a verifier key to be checked")
    try:
        return open_checkpoint(note, verifier)
    except NoteError as exc:
        raise InvalidCheckpoint(f"the saved checkpoint does not verify: {exc}") from None


def _read_head(log: MerkleLog, conn: Connection) -> tuple[Head, str]:
    """The head row as stored, its frontier as text: read here rather than by the
    log, which parses the frontier (and keeps it for proofs) before anything has
    checked it."""
    head = log.tables.head
    row = conn.execute(select(head.c.size, head.c.root_hash, head.c.pruned,
                              head.c.frontier)).first()
    if row is None:
        raise AuditError("the audit log has no head row (run create_tables)")
    if (type(row.size) is not int or type(row.pruned) is not int
            or not isinstance(row.root_hash, str) or not isinstance(row.frontier, str)):
        raise _Bad(None, "the head holds a value of another kind than the log "
                   "writes there (changed)")
    return Head(row.size, row.root_hash, row.pruned), row.frontier


def _check_frontier(walk: _Walk, stored: object) -> None:
    """The head's frontier is the right edge rebuilt from the leaves: the next
    append grows the tree from it, and proofs of the head's size take their right
    edge from it, so a changed one corrupts both while the root still matches."""
    if stored != "".join(node.hex() for node in walk.frontier):
        raise _Bad(None, "the head's frontier does not match the entries (the next "
                   "append would grow a wrong tree from it)")


def _signed_checkpoints(log: MerkleLog, conn: Connection, verifier: Verifier | None,
                        saved: Checkpoint | None) -> list[tuple[int, bytes]]:
    """(size, root) of every checkpoint whose signature verifies: the saved one and
    those stored in the log (a stored one with a bad signature is tampering)."""
    found = [(saved.size, saved.root)] if saved else []
    if verifier is None:
        return found
    table = log.tables.checkpoints
    for row in conn.execute(select(table).order_by(table.c.size)):
        try:
            checkpoint = open_checkpoint(row.note, verifier)
        except NoteError:
            raise _Bad(None, f"the stored checkpoint of size {row.size} does not "
                       "verify with the log's key") from None
        if checkpoint.size != row.size:
            raise _Bad(None, f"the stored checkpoint of size {row.size} is filed "
                       "under the wrong size")
        if row.root_hash != checkpoint.root.hex():
            raise _Bad(None, f"the stored checkpoint of size {row.size} is filed "
                       "under a root hash its signed note does not name (the next "
                       "checkpoint is refused until it is repaired)")
        found.append((checkpoint.size, checkpoint.root))
    return sorted(set(found))


class _Walk:
    """Rebuilds the tree leaf by leaf from the stored records, and collects the
    hashes the tiles above the leaves must hold."""

    def __init__(self) -> None:
        self.good = 0
        self.pruned = 0
        self.frontier: list[bytes] = []
        self.sizes: set[int] = set()
        self.roots: dict[int, bytes] = {}
        self.upper: dict[int, list[bytes]] = {}  # tile level >= 1 -> its hashes
        self.prunes: list[tuple[int, AccessRecord]] = []  # the kept prune records

    def root(self) -> bytes:
        return merkle.root_from_frontier(self.frontier)

    def run(self, log: MerkleLog, conn: Connection, head: Head) -> None:
        self.pruned = head.pruned
        if head.pruned > head.size:
            raise _Bad(head.size, "the head says more entries were pruned than exist")
        leaves = _stored_leaves(conn, log)
        records = heapq.merge(_records(conn, log, AuditEntry),
                              _records(conn, log, AccessRecord), key=lambda r: r[0])
        record = next(records, None)
        if 0 in self.sizes:
            self.roots[0] = merkle.EMPTY_ROOT
        completed: list[tuple[int, int, bytes]] = []
        for index in range(head.size):
            stored = next(leaves, None)
            if stored is None:
                raise _Bad(index, f"the leaf hash of entry {index} is missing")
            if index >= head.pruned:
                record = self._check_record(index, record, records, stored)
            elif record is not None and record[0] == index:
                raise _Bad(index, f"entry {index} lies in the pruned part of the log")
            merkle.extend(self.frontier, index, [stored], completed)
            self._keep_tile_hashes(completed)
            self.good = index + 1
            if self.good in self.sizes:
                self.roots[self.good] = self.root()
        if record is not None:
            raise _Bad(record[0], f"entry {record[0]} lies beyond the head "
                       f"(size {head.size}): inserted")
        if next(leaves, None) is not None:
            raise _Bad(head.size, "a leaf hash lies beyond the head")
        if self.root().hex() != head.root_hash:
            raise _Bad(None, "the head's root hash does not match the entries")

    def _keep_tile_hashes(self, completed: list[tuple[int, int, bytes]]) -> None:
        for level, _position, node in completed:
            if level and level % tiles.HEIGHT == 0:
                self.upper.setdefault(level // tiles.HEIGHT, []).append(node)
        completed.clear()

    def _check_record(self, index: int, record: Any, records: Iterator,
                      stored: bytes) -> Any:
        if record is None or record[0] > index:
            raise _Bad(index, f"entry {index} is missing (deleted)")
        if record[0] < index:
            raise _Bad(record[0], f"entry {record[0]} appears twice (inserted)")
        idx, record_type, row = record
        try:
            decoded, canonical = decode(record_type, row)
        except InvalidAuditEntry as exc:
            raise _Bad(index, f"entry {index} is malformed: {exc}") from None
        if merkle.leaf_hash(canonical) != stored:
            raise _Bad(index, f"entry {index} does not match its leaf hash "
                       "(changed, inserted or moved)")
        if record_type is AccessRecord and decoded.actor == PRUNE_ACTOR:
            self.prunes.append((index, decoded))
        return next(records, None)


def _stored_leaves(conn: Connection, log: MerkleLog) -> Iterator[bytes]:
    """The leaf hashes in the level-0 tiles, in order. A tile out of sequence, of a
    ragged length, or short before the last one ends the leaves there, so the walk
    reports the first leaf it cannot find."""
    expected = 0
    table = log.tables.tiles
    for tile in _stream(conn, table, "number", table.c.level == 0):
        data = bytes(tile["hashes"])
        if tile["number"] != expected or len(data) % merkle.HASH_SIZE:
            return
        for offset in range(0, len(data), merkle.HASH_SIZE):
            yield data[offset:offset + merkle.HASH_SIZE]
        if len(data) != tiles.TILE_BYTES:
            return
        expected += 1


def _check_upper_levels(log: MerkleLog, conn: Connection, size: int,
                        upper: dict[int, list[bytes]]) -> None:
    """Every stored tile above the leaves holds exactly the subtree hashes rebuilt
    from the leaves (the leaves were checked by the walk): proofs are built from
    these."""
    table = log.tables.tiles
    tile_level = 1
    while tiles.hashes_at(size, tile_level) or tile_level == 1:
        want = upper.get(tile_level, [])
        level = tile_level * tiles.HEIGHT
        stored = _stream(conn, table, "number", table.c.level == tile_level)
        for number, data in tiles.tiles_of(level, want):
            tile = next(stored, None)
            got = b"" if tile is None or tile["number"] != number else bytes(
                tile["hashes"])
            if got != data:
                offset = _first_difference(got, data) + number * tiles.WIDTH
                raise _Bad(offset << level, f"the stored hash at level {level}, "
                           f"position {offset} is wrong")
        if next(stored, None) is not None:
            raise _Bad(None, f"a stored hash at level {level} lies beyond the head")
        tile_level += 1
    beyond = conn.execute(select(func.count()).select_from(table).where(
        table.c.level >= tile_level)).scalar()
    if beyond:
        raise _Bad(None, "a stored tile lies above the top of the tree")


def _check_tile_nodes(log: MerkleLog, conn: Connection) -> None:
    """Every full tile holds the node hashes its hashes give, and no partial tile
    holds any (``tiles.first_wrong_node``). Run after the tiles' hashes were
    checked, so the nodes are compared with hashes rebuilt from the leaves. The
    report names the first leaf under the wrong node."""
    table = log.tables.tiles
    stmt = select(table.c.level, table.c.number, table.c.hashes, table.c.nodes
                  ).order_by(table.c.level, table.c.number)
    for tile_level, number, data, nodes in conn.execute(
            stmt.execution_options(yield_per=_BATCH)):
        data = bytes(data)
        wrong = tiles.first_wrong_node(data, None if nodes is None else bytes(nodes))
        if wrong is None:
            continue
        rest, offset = wrong
        level = tile_level * tiles.HEIGHT + rest
        position = ((number * tiles.WIDTH) >> rest) + offset
        if rest == 0:
            problem = (f"tile {tile_level}/{number} has no node hashes"
                       if len(data) == tiles.TILE_BYTES
                       else f"partial tile {tile_level}/{number} has node hashes")
        else:
            problem = (f"the stored node hash at level {level}, position "
                       f"{position} (tile {tile_level}/{number}) is wrong")
        raise _Bad(position << level, problem)


def _first_difference(got: bytes, want: bytes) -> int:
    """The index of the first hash that differs (or is missing) in a tile."""
    for offset in range(0, len(want), merkle.HASH_SIZE):
        if got[offset:offset + merkle.HASH_SIZE] != want[offset:offset +
                                                         merkle.HASH_SIZE]:
            return offset // merkle.HASH_SIZE
    return len(want) // merkle.HASH_SIZE


def _check_checkpoints(walk: _Walk, signed: list[tuple[int, bytes]]) -> None:
    last_good = 0
    for size, root in signed:
        if size > walk.good:
            raise _Bad(walk.good, f"a signed checkpoint covers {size} entries but the "
                       f"log holds {walk.good}: entries {walk.good} to {size - 1} are "
                       "gone (rolled back)")
        if walk.roots.get(size) != root:
            raise _Bad(last_good, f"entries {last_good} to {size - 1} differ from the "
                       f"signed checkpoint of size {size} (rewritten)")
        last_good = size


# The tables written behind the log from its records, by the mark (``audit.
# subject_index``), each with the records it copies and their columns: the
# holder's inzage and the DPO's filters read them below the mark, so a row
# deleted, changed or added there hides or invents an access (or, in the
# access records' table, who made it).
_INDEXES = (("subjects", "entries", ("subject", "started_at_ms")),
            ("keys", "entries", ("organisation", "started_at_ms", "trace_id")),
            ("access_keys", "access",
             ("trace_id", "span_id", "actor", "occurred_at_ms")))


def _check_indexes(log: MerkleLog, conn: Connection, head: Head) -> None:
    """Every record the log keeps below the mark has exactly its row in each
    index, and no row names a record it does not hold or one after the mark.
    The records were verified by the walk, so they are the reference."""
    tables = log.tables
    mark = tables.subjects_mark
    upto = conn.execute(select(mark.c.upto).where(mark.c.id == 1)).scalar()
    if upto is None:
        raise _Bad(None, "the subjects index has no mark: its entries are found "
                   "in neither it nor the log's tail")
    if not 0 <= upto <= head.size:
        raise _Bad(min(max(upto, 0), head.size), f"the subjects index's mark "
                   f"({upto}) lies beyond the head (size {head.size}): the "
                   "entries before it are read from the index alone")
    for name, source, columns in _INDEXES:
        index, records = getattr(tables, name), getattr(tables, source)
        same = and_(records.c.idx == index.c.idx,
                    *(records.c[c] == index.c[c] for c in columns))
        missing = conn.execute(select(func.min(records.c.idx)).where(
            records.c.idx < upto, ~exists().where(same))).scalar()
        stray = conn.execute(select(func.min(index.c.idx)).select_from(
            index.outerjoin(records, same)).where(
                or_(records.c.idx.is_(None), index.c.idx >= upto))).scalar()
        if missing is not None and (stray is None or missing <= stray):
            raise _Bad(missing, f"entry {missing} lies below the {name} index's "
                       f"mark ({upto}) but its row there is missing or changed")
        if stray is not None:
            raise _Bad(stray, f"the {name} index holds a row for entry {stray} "
                       "that the entry does not match or that lies past its "
                       f"mark ({upto}) (inserted or changed)")


def _check_prunes(prunes: list[tuple[int, AccessRecord]], pruned: int,
                  verifier: Verifier | None, retention: timedelta | None,
                  vouched: int) -> None:
    """Every pruned prefix is one that retention made: the last prune record the
    log keeps cuts exactly where the head says, each one cuts further than the
    one before, and with ``retention`` none deleted records younger than that at
    its time. With the log's key each one was signed with it, or, written before
    prune records were signed, lies inside a signed checkpoint that matched the
    tree (of ``vouched`` leaves, ``audit.prunes``). A prune record may itself be
    pruned by a later prune; the later one vouches for it."""
    last, at = 0, 0
    for index, record in prunes:
        cutoff, before = _read_prune(index, record, verifier, vouched)
        if cutoff > index:
            raise _Bad(index, f"the prune record at {index} claims the records "
                       f"before index {cutoff}, beyond itself")
        if cutoff <= last:
            raise _Bad(index, f"the prune record at {index} cuts at {cutoff}, "
                       f"where the log was cut already (at {last})")
        # A prune record written before they named a time can not be held to
        # the retention: the records that would tell are the ones it deleted.
        if (retention is not None and before is not None
                and before > record.occurred_at - retention):
            raise _Bad(index, f"the prune record at {index} deleted records made "
                       f"up to {iso_ms(before)}, within the retention period of "
                       f"{retention.days} days at its time "
                       f"{iso_ms(record.occurred_at)}")
        last, at = cutoff, index
    if pruned > last:
        raise _Bad(last, f"entries {last} to {pruned - 1} are missing: the head "
                   "says they were pruned, but no retention prune record in the "
                   "log cuts there (deleted)")
    if pruned < last:
        raise _Bad(pruned, f"the head says {pruned} entries were pruned, but the "
                   f"prune record at {at} pruned the records before index {last}")


def _read_prune(index: int, record: AccessRecord, verifier: Verifier | None,
                vouched: int) -> tuple[int, datetime | None]:
    """The cut and the time of a prune record, its signature checked, or its
    place inside a signed checkpoint where it has none."""
    try:
        cut = read_cut(record)
    except NotAPrune as exc:
        if exc.timeless:
            raise _Bad(index, f"the prune record at {index} names no valid time"
                       ) from None
        raise _Bad(index, f"entry {index} names the retention as its actor but "
                   "is no prune record (forged)") from None
    if (verifier is not None and not signed_by(verifier, index, record)
            and index >= vouched):
        raise _Bad(index, f"the prune record at {index} is not signed with the "
                   "log's key, and no signed checkpoint covers it (forged)")
    return cut


def _records(conn: Connection, log: MerkleLog, record_type: type) -> Iterator:
    table = log.tables.of(record_type)
    for row in _stream(conn, table, "idx"):
        yield row["idx"], record_type, row


def _stream(conn: Connection, table: Any, order: str, *where: Any) -> Iterator:
    columns = [c for c in table.c if c.name != "nodes"]  # _check_tile_nodes's
    stmt = select(*columns).where(*where).order_by(table.c[order])
    yield from conn.execute(stmt.execution_options(yield_per=_BATCH)).mappings()


@contextmanager
def _snapshot(log: MerkleLog) -> Iterator[Connection]:
    """One consistent snapshot for all reads: otherwise an append between reading
    the records and the head looks like tampering."""
    engine = log.engine
    options: dict[str, Any] = {}
    if engine.dialect.name == "postgresql":
        options = {"isolation_level": "REPEATABLE READ"}
    try:
        with engine.connect().execution_options(**options) as conn, conn.begin():
            yield conn
    except (_Bad, AuditError):
        raise
    except (SQLAlchemyError, OSError) as exc:
        raise AuditUnavailable("could not verify the audit log") from exc
    except (ValueError, TypeError, KeyError, OverflowError, RecursionError) as exc:
        # Read, but not as what the log writes (text in a number's column on
        # SQLite, say): the stored log was changed outside ``append``.
        raise _Bad(None, "a stored value of the log is not of the kind the log "
                   f"writes there ({type(exc).__name__}): changed") from None
    except Exception as exc:
        raise AuditUnavailable("could not verify the audit log") from exc
