"""A per-process, read-only copy of the match index in integer arrays, kept exactly
in step with the database, for ranking in memory (``registry.match_scoring``).

One *entry* per disclosure with a reach key of the index's purpose: its holder
(``pid``, a small integer per pseudonym), sequence number, validity in
microseconds, the merged columns as integers (-1 or ``NO_DAY`` for NULL) and its
reach key ids (the first in ``reach``, all of them in ``reaches`` when there are
several). Per skill id a posting array of the entries that hold it; per holder a
row of ``holder_entries`` with their entries (-1 where free) and its
``column_entry``: the one entry holding any index column (-1 when none does, -2
when several do). A holder with one such entry has that entry's columns, when it
is visible, as its merged columns: ranking then reads them straight from it and
merges disclosures only for holders with several (measured at a million holders:
merging every candidate's disclosures took a third of a query).

What may be ranked on is still decided per query by the consent gate: the
requester's reach key ids and the time come from ``ConsentGate.rankable``, and an
entry counts only when one of its keys is among them and it is live. The page's
candidates are read again through the gate from the database before anything is
shown (``Registry.ranked``).

Staying exact: every query first replays the change log (``registry.match_changes``)
since its last read: each changed disclosure is dropped and its current rows, if
any, read again. A removed entry is only marked dead (postings keep it until the
arrays are compacted). A process that has not read the log for half the time the
log is kept, or that would replay more than a fifth of its entries, loads
everything again. The first query of a process loads everything (measured in
bench/registry_bench.py: seconds at a million holders).
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from itertools import chain
from datetime import date, datetime, timedelta, timezone
from typing import Iterable, Iterator

import numpy as np
from sqlalchemy import Connection, Engine, select

from .match_changes import KEEP_HOURS, Mark, changed_since, mark_now, prune
from .tables_match import MatchDisclosure, MatchSkill, MatchTerm

MD = MatchDisclosure.__table__
MS = MatchSkill.__table__
TERM = MatchTerm.__table__
NO_DAY = int(np.iinfo(np.int32).min)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EPOCH_DAY = date(1970, 1, 1).toordinal()
_COLUMNS = {"pid": np.int32, "seq": np.int64, "valid_from": np.int64,
            "valid_until": np.int64, "employer": np.int32, "level": np.int16,
            "hours": np.int16, "free_from": np.int32, "free_until": np.int32,
            "reach": np.intp, "alive": np.bool_, "multi": np.bool_,
            "present": np.uint8}
# ``reach`` is of numpy's own index type: every query looks each entry's key up
# in a mask (``visible_all``), and an index array of another type is converted
# first (measured on 1.3 million entries: 4.2 ms a lookup with 32-bit keys,
# 1.6 ms with these).
# Bits of ``present``: which index columns an entry holds (the period as a pair).
EMPLOYER, LEVEL, HOURS, PERIOD = 1, 2, 4, 8
_STALE_SECONDS = KEEP_HOURS * 3600 / 2
_PRUNE_SECONDS = 3600


def micros(moment: datetime) -> int:
    """Microseconds since the epoch; a naive time (SQLite) is UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def day(value: date | None) -> int:
    return NO_DAY if value is None else value.toordinal() - _EPOCH_DAY


class MatchIndex:
    """The arrays, and the sync that keeps them exact. ``locked`` hands out the
    synced index to one query at a time."""

    def __init__(self, engine: Engine, purpose: str):
        self._engine = engine
        self._purpose = purpose
        self._lock = threading.Lock()
        self._mark: Mark | None = None
        self._synced = self._pruned = 0.0
        self.loads = 0  # full loads so far (tests and the benchmark read it)
        self._reset()

    def _reset(self) -> None:
        self.size = 0  # entries in use, dead ones included
        self.dead = 0
        self.col = {name: np.zeros(0, kind) for name, kind in _COLUMNS.items()}
        self.entry_of: dict[int, int] = {}  # disclosure id -> entry
        self.reaches: dict[int, np.ndarray] = {}  # entry -> reach ids, if several
        self.max_reach = 0
        self.postings: dict[int, np.ndarray] = {}  # skill id -> entries
        self.skill_id: dict[str, int] = {}  # skill URI -> id, for every held skill
        self.pid_of: dict[str, int] = {}
        self.pseudonym = np.zeros(0, "S32")
        self.holders = 0
        self.holder_entries = np.full((0, 1), -1, np.int32)
        self.column_entry = np.zeros(0, np.int32)
        self.employer_id: dict[str, int] = {}
        self._live: tuple[int, int, int, np.ndarray] | None = None
        self._multi: tuple[np.ndarray, np.ndarray] | None = None

    # -- Sync ------------------------------------------------------------------

    def sync(self, conn: Connection | None = None) -> None:
        """Bring the arrays to the database's state (call with the lock held).
        ``conn``: the caller's transaction, if it has one; it must not have
        written anything (what the log says must have committed)."""
        stale = time.monotonic() - self._synced > _STALE_SECONDS
        with _reading(self._engine, conn) as conn:
            if self._mark is None or stale:
                self._load_all(conn)
            else:
                changed, mark = changed_since(conn, self._mark)
                if len(changed) > max(1000, (self.size - self.dead) // 5):
                    self._load_all(conn)
                elif changed:
                    for disclosure_id in changed:
                        self._remove(disclosure_id)
                    self._add(conn, sorted(changed))
                    self._mark = mark
                else:
                    self._mark = mark
        self._synced = time.monotonic()
        if self.dead > max(10_000, self.size // 3):
            self._compact()
        if self._synced - self._pruned > _PRUNE_SECONDS:
            with self._engine.begin() as conn:
                prune(conn)
            self._pruned = self._synced

    def locked(self, conn: Connection | None = None):
        """``with index.locked():`` syncs and keeps other threads out; ``conn``:
        the caller's transaction to sync in (see ``sync``)."""
        return _Locked(self, conn)

    def _load_all(self, conn: Connection) -> None:
        # The mark first: whatever commits after it is replayed by the next sync.
        mark = mark_now(conn)
        self._reset()
        self._add(conn, None)
        self._mark = mark
        self.loads += 1

    def _add(self, conn: Connection, ids: list[int] | None) -> None:
        """Read the rows of disclosures ``ids`` (None: all) and add them."""
        reach = select(TERM.c.id).where(TERM.c.term.like(f"{self._purpose}|%"))
        rows_query = select(
            MD.c.disclosure_id, MD.c.reach, MD.c.pseudonym, MD.c.sequence,
            MD.c.valid_from, MD.c.valid_until, MD.c.employer_code, MD.c.level_rank,
            MD.c.hours_per_week, MD.c.available_from, MD.c.available_until,
        ).where(MD.c.reach.in_(reach))
        skills_query = select(MS.c.disclosure_id, MS.c.skill).where(
            MS.c.reach.in_(reach))
        if ids is not None:
            rows, skills = [], []
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                rows += conn.execute(rows_query.where(
                    MD.c.disclosure_id.in_(chunk))).all()
                skills += conn.execute(skills_query.where(
                    MS.c.disclosure_id.in_(chunk))).all()
            pairs = np.array([tuple(r) for r in skills], np.int64).reshape(-1, 2)
        else:
            rows = conn.execute(rows_query).all()
            pairs = _all_pairs(conn, skills_query)
        self._add_rows(rows)
        self._add_skills(conn, pairs)

    def _add_rows(self, rows: Iterable) -> None:
        new: dict[str, list] = {name: [] for name in _COLUMNS}
        first = self.size
        for (disclosure_id, reach, pseudonym, sequence, valid_from, valid_until,
             employer, level, hours, free_from, free_until) in rows:
            entry = self.entry_of.get(disclosure_id)
            if entry is not None:  # another reach key of the same disclosure
                self.reaches[entry] = np.append(self.reaches.get(
                    entry, np.array([self._reach_of(entry, first, new)], np.int32)),
                    np.int32(reach))
                self._set_multi(entry, first, new)
                self.max_reach = max(self.max_reach, reach)
                continue
            entry = first + len(new["pid"])
            self.entry_of[disclosure_id] = entry
            self.max_reach = max(self.max_reach, reach)
            present = ((employer is not None) * EMPLOYER + (level is not None) * LEVEL
                       + (hours is not None) * HOURS
                       + (free_from is not None or free_until is not None) * PERIOD)
            values = (self._holder(pseudonym), sequence, micros(valid_from),
                      micros(valid_until), self._employer(employer),
                      -1 if level is None else level, -1 if hours is None else hours,
                      day(free_from), day(free_until), reach, True, False, present)
            for name, value in zip(_COLUMNS, values):
                new[name].append(value)
        if not new["pid"]:
            return
        self._grow(first + len(new["pid"]))
        for name, kind in _COLUMNS.items():
            self.col[name][first:self.size] = np.array(new[name], kind)
        added = np.arange(first, self.size, dtype=np.int32)
        self._place_all(added)
        self._refresh_column_entry(np.unique(self.col["pid"][added]))
        self._multi = None
        if self._live is not None:
            self._refresh_live(added)

    def _reach_of(self, entry: int, first: int, new: dict) -> int:
        if entry >= first:
            return new["reach"][entry - first]
        return int(self.col["reach"][entry])

    def _set_multi(self, entry: int, first: int, new: dict) -> None:
        self._multi = None
        if entry >= first:
            new["multi"][entry - first] = True
        else:
            self.col["multi"][entry] = True

    def _add_skills(self, conn: Connection, pairs: np.ndarray) -> None:
        """Add (disclosure id, skill id) pairs to the postings."""
        if not len(pairs):
            return
        # Skill rows of a disclosure without rows (it changed between the reads)
        # are left out; the log brings that disclosure again.
        if len(pairs) < 10_000:
            of = [self.entry_of.get(int(d), -1) for d in pairs[:, 0]]
            entry = np.array(of, np.int32)
        else:
            known = np.fromiter(self.entry_of.keys(), np.int64, len(self.entry_of))
            entries = np.fromiter(self.entry_of.values(), np.int32, len(known))
            order = np.argsort(known)
            known, entries = known[order], entries[order]
            at = np.minimum(np.searchsorted(known, pairs[:, 0]), max(len(known) - 1, 0))
            entry = (np.where(known[at] == pairs[:, 0], entries[at], -1) if len(known)
                     else np.full(len(pairs), -1, np.int32))
        found = entry >= 0
        entry, skill = entry[found].astype(np.int32), pairs[found, 1]
        order = np.argsort(skill, kind="stable")
        entry, skill = entry[order], skill[order]
        cuts = np.flatnonzero(np.diff(skill)) + 1
        for part_entry, part_skill in zip(np.split(entry, cuts), np.split(skill, cuts)):
            sid = int(part_skill[0])
            old = self.postings.get(sid)
            self.postings[sid] = part_entry if old is None else np.concatenate(
                [old, part_entry])
        self._learn_terms(conn, {int(s) for s in np.unique(skill)})

    def _learn_terms(self, conn: Connection, ids: set[int]) -> None:
        known = set(self.skill_id.values())
        missing = sorted(ids - known)
        for start in range(0, len(missing), 500):
            chunk = missing[start:start + 500]
            for id_, term in conn.execute(select(TERM.c.id, TERM.c.term).where(
                    TERM.c.id.in_(chunk))):
                self.skill_id[term] = id_

    def _remove(self, disclosure_id: int) -> None:
        entry = self.entry_of.pop(disclosure_id, None)
        if entry is None:
            return
        self.col["alive"][entry] = False
        if self._live is not None:
            self._live[3][entry] = False
        pid = self.col["pid"][entry]
        row = self.holder_entries[pid]
        row[row == entry] = -1
        self._refresh_column_entry(np.array([pid], np.int32))
        if self.reaches.pop(entry, None) is not None:
            self._multi = None
        self.dead += 1

    # -- Storage -----------------------------------------------------------------

    def _holder(self, pseudonym: str) -> int:
        pid = self.pid_of.get(pseudonym)
        if pid is None:
            pid = self.pid_of[pseudonym] = self.holders
            self.holders += 1
            if self.holders > len(self.pseudonym):
                capacity = max(1024, 2 * self.holders)
                self.pseudonym = np.resize(self.pseudonym, capacity)
                grown = np.full((capacity, self.holder_entries.shape[1]), -1, np.int32)
                grown[:len(self.holder_entries)] = self.holder_entries
                self.holder_entries = grown
                self.column_entry = np.resize(self.column_entry, capacity)
                self.column_entry[self.holders - 1:] = -1
            self.pseudonym[pid] = pseudonym.encode("ascii")
        return pid

    def _employer(self, code: str | None) -> int:
        if code is None:
            return -1
        return self.employer_id.setdefault(code, len(self.employer_id))

    def _grow(self, size: int) -> None:
        if size > len(self.col["pid"]):
            capacity = max(1024, 2 * size)
            for name, array in self.col.items():
                grown = np.zeros(capacity, array.dtype)
                grown[:self.size] = array[:self.size]
                self.col[name] = grown
        self.size = size

    def _place_all(self, entries: np.ndarray) -> None:
        """Put new ``entries`` in their holders' rows: at once when those rows
        are empty (a full load), else one by one."""
        pids = self.col["pid"][entries]
        if len(entries) < 1000 or not (self.holder_entries[pids] < 0).all():
            for entry in entries:
                self._place(int(entry))
            return
        order = np.argsort(pids, kind="stable")
        pids, entries = pids[order], entries[order]
        starts = np.flatnonzero(np.r_[True, pids[1:] != pids[:-1]])
        rank = np.arange(len(pids)) - np.repeat(starts, np.diff(np.r_[starts,
                                                                         len(pids)]))
        width = self.holder_entries.shape[1]
        if rank.max() >= width:
            wider = np.full((len(self.holder_entries), int(rank.max()) + 1), -1,
                            np.int32)
            wider[:, :width] = self.holder_entries
            self.holder_entries = wider
        self.holder_entries[pids, rank] = entries

    def _place(self, entry: int) -> None:
        """Put ``entry`` in a free place of its holder's row (widening all rows
        when a holder has more disclosures than any before)."""
        pid = self.col["pid"][entry]
        row = self.holder_entries[pid]
        free = np.flatnonzero(row < 0)
        if not len(free):
            wider = np.full((len(self.holder_entries), row.size * 2), -1, np.int32)
            wider[:, :row.size] = self.holder_entries
            self.holder_entries = wider
            row, free = self.holder_entries[pid], [row.size]
        row[free[0]] = entry

    def _refresh_column_entry(self, pids: np.ndarray) -> None:
        """Set ``column_entry`` of holders ``pids`` from their rows."""
        if not len(pids):
            return
        rows = self.holder_entries[pids]
        used = rows >= 0
        holding = used & (self.col["present"][np.where(used, rows, 0)] != 0)
        count = holding.sum(axis=1)
        first = rows[np.arange(len(pids)), holding.argmax(axis=1)]
        self.column_entry[pids] = np.where(count == 1, first,
                                           np.where(count == 0, -1, -2))

    def _compact(self) -> None:
        """Drop dead entries and number the live ones afresh."""
        live = np.flatnonzero(self.col["alive"][:self.size])
        renumber = np.full(self.size + 1, -1, np.int32)
        renumber[live] = np.arange(len(live), dtype=np.int32)
        for name in self.col:
            self.col[name] = self.col[name][live].copy()
        self.size, self.dead = len(live), 0
        for sid, entries in list(self.postings.items()):
            moved = renumber[entries]
            self.postings[sid] = moved[moved >= 0]
        self.holder_entries = np.where(self.holder_entries >= 0,
                                       renumber[self.holder_entries], -1
                                       ).astype(np.int32)
        self.column_entry = np.where(self.column_entry >= 0,
                                     renumber[self.column_entry], self.column_entry
                                     ).astype(np.int32)
        self.entry_of = {d: int(renumber[e]) for d, e in self.entry_of.items()}
        self.reaches = {int(renumber[e]): r for e, r in self.reaches.items()}
        self._live = self._multi = None

    # -- Reading (for match_scoring) -------------------------------------------

    def visible_all(self, reach_ok: np.ndarray, now: int) -> np.ndarray:
        """Per entry: alive, live at ``now`` and under a reach key ``reach_ok``
        admits. One pass in entry order; ranking then looks its hits up in it
        (measured at a million holders: gathering each hit's reach key,
        liveness and validity instead took most of a query)."""
        live = self._live_at(now)
        shown = reach_ok[self.col["reach"][:self.size]]
        shown &= live
        if self.reaches:
            entries, keys = self._multi_keys()
            admitted = keys < len(reach_ok)
            hit = entries[admitted][reach_ok[keys[admitted]]]
            shown[hit] = live[hit]
        return shown

    def _live_at(self, now: int) -> np.ndarray:
        """Alive and valid at ``now``, kept with the span around ``now`` in which
        no entry's validity begins or ends (so the same mask holds there)."""
        cached = self._live
        if cached is None or not cached[0] <= now < cached[1]:
            self._live = (-2 ** 63, 2 ** 63 - 1, now, np.zeros(self.size, bool))
            self._refresh_live(np.arange(self.size, dtype=np.int32))
        return self._live[3][:self.size]

    def _refresh_live(self, entries: np.ndarray) -> None:
        low, high, at, mask = self._live
        if len(mask) < self.size:
            mask = np.concatenate([mask, np.zeros(len(self.col["pid"]) - len(mask),
                                                  bool)])
        c = self.col
        begins, ends = c["valid_from"][entries], c["valid_until"][entries]
        mask[entries] = c["alive"][entries] & (begins <= at) & (ends > at)
        for bounds in (begins, ends):
            before, after = bounds[bounds <= at], bounds[bounds > at]
            if len(before):
                low = max(low, int(before.max()))
            if len(after):
                high = min(high, int(after.min()))
        self._live = (low, high, at, mask)

    def _multi_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """(entry, reach key) for every key of the entries with several."""
        if self._multi is None:
            entries = [np.full(len(k), e, np.int32) for e, k in self.reaches.items()]
            self._multi = (np.concatenate(entries),
                           np.concatenate(list(self.reaches.values())))
        return self._multi


class _Locked:
    def __init__(self, index: MatchIndex, conn: Connection | None):
        self._index = index
        self._conn = conn

    def __enter__(self) -> MatchIndex:
        self._index._lock.acquire()
        try:
            self._index.sync(self._conn)
        except BaseException:
            self._index._lock.release()
            raise
        return self._index

    def __exit__(self, *exc) -> None:
        self._index._lock.release()


@contextmanager
def _reading(engine: Engine, conn: Connection | None) -> Iterator[Connection]:
    """The caller's connection, or one of the index's own."""
    if conn is not None:
        yield conn
        return
    with engine.connect() as own:
        yield own


def _all_pairs(conn: Connection, query) -> np.ndarray:
    """Every (disclosure id, skill id) pair of ``query``: on PostgreSQL as one
    binary COPY read straight into an array (ten million rows at a million
    holders; fetching them as Python tuples took most of a full load)."""
    compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
    cursor = conn.connection.driver_connection.cursor()
    if conn.dialect.name != "postgresql":
        # The driver's plain tuples, flattened: no Row object per pair.
        cursor.execute(str(compiled))
        flat = np.fromiter(chain.from_iterable(cursor), np.int64)
        cursor.close()
        return flat.reshape(-1, 2)
    chunks = []
    with cursor.copy(f"COPY ({compiled}) TO STDOUT (FORMAT binary)") as copy:
        for data in copy:
            chunks.append(bytes(data))
    raw = b"".join(chunks)
    # Header: 11-byte signature, 4 bytes of flags, 4 bytes of extension length
    # (and the extension); then per row the field count and each field's length
    # and value; the trailer is a field count of -1.
    start = 19 + int.from_bytes(raw[15:19], "big")
    row = np.dtype([("n", ">i2"), ("l1", ">i4"), ("d", ">i4"), ("l2", ">i4"),
                    ("s", ">i4")])
    body = np.frombuffer(raw, row, count=(len(raw) - start - 2) // row.itemsize,
                         offset=start)
    if len(body) and not ((body["n"] == 2).all() and (body["l1"] == 4).all()
                          and (body["l2"] == 4).all()):
        raise ValueError("unexpected COPY row layout")
    return np.stack([body["d"].astype(np.int64), body["s"].astype(np.int64)], axis=1)
