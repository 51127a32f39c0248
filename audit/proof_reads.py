"""What a proof reads from the store: the tiles it needs, by key, and the head, in
one statement and so in one round trip.

The head comes with the tiles for two reasons. A proof is given only for a tree the
log has: if the head is smaller than the size asked for, the proof is refused,
whatever tiles a cache or the store still holds. And the head's frontier (the
perfect-subtree hashes of the tree, one per set bit of its size, RFC 9162 2.1.1)
holds every hash on the right edge of that tree, so later proofs against that size
need no partial tile (``MerkleLog._nodes``).

The statement is a ``UNION ALL`` of one primary-key lookup per tile, with the tile's
node hashes if it is full (``tiles.stored_levels``: a proof then hashes nothing of
it), after the head's row (level -1, its size in ``number``, its frontier's hex text
in ``hashes``, no nodes). Its text depends only on how many keys it takes, rounded
up to a power of two, so a handful of texts serve every proof. The places past the
keys asked for take a key no tile has (``_ABSENT``): a probe of the primary key that
finds nothing. Repeating the last key instead read that tile twice, and on
PostgreSQL fetched its 8 KiB out of line and sent it twice. On PostgreSQL each text
is prepared on the server once per connection and runs with one generic plan from
its first execution (``plan_cache_mode`` ``force_generic_plan`` on these connections:
under ``auto`` the server planned each text afresh for its first five executions,
0.1 to 0.5 ms each, before it settled on the generic plan). The earlier statement,
the keys as two arrays joined to the table, was planned again on every proof,
because the server's estimate for a custom plan with a few keys always beat its
generic plan with the default ten rows for ``unnest``.

On PostgreSQL the proofs have connections of their own (``PostgresProofReader``),
in autocommit and with every integer parameter sent as ``int8``, so that one
prepared statement per text serves every key. They are taken from the engine
(with its settings and events) and detached from its pool: a proof then costs
no pool checkout, no switch to autocommit and back, and no reset on return.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Engine, event

from audit.db import server_hung_up
from audit.errors import AuditUnavailable
from audit.merkle import HASH_SIZE
from audit.tiles import TileKey

HEAD_LEVEL = -1  # the head's row among the tiles: (-1, size, frontier, NULL)
_HEAD_ID = 1
MAX_KEYS = 256  # tiles per statement; more are read by more statements
_ABSENT = (-2, 0)  # a key no tile has (tile levels start at 0): the padding
_KEEP_IDLE = 4  # idle PostgreSQL connections kept for proofs


class ProofRead(NamedTuple):
    """The head as the statement saw it, and the tiles it found (a missing key
    is simply absent), with the node hashes of those that have them."""

    size: int
    frontier: list[bytes]
    tiles: dict[TileKey, bytes]
    nodes: dict[TileKey, bytes]


def padded(count: int) -> int:
    """The number of keys a statement for ``count`` keys takes: the next power of
    two, so that a few statement texts serve every read."""
    return 1 << max(0, count - 1).bit_length()


def statement(tiles_table: str, head_table: str, keys: int, *, postgres: bool
              ) -> str:
    """The text that reads the head and ``keys`` tiles. Only validated table names
    and constants go into it; the keys are parameters."""
    mark = "%s" if postgres else "?"
    # As the bytes of its hex text: decode(frontier, 'hex') cost the server
    # more than reading the tile (45 against 11 us a proof).
    frontier = "convert_to(frontier, 'UTF8')" if postgres else "frontier"
    head = (f"SELECT {HEAD_LEVEL}, size, {frontier}, NULL FROM {head_table} "
            f"WHERE id = {_HEAD_ID}")
    tile = (f"SELECT level, number, hashes, nodes FROM {tiles_table} "
            f"WHERE level = {mark} AND number = {mark}")
    return " UNION ALL ".join([head, *[tile] * keys])


def chunks(keys: Iterable[TileKey]) -> list[tuple[int, list[int]]]:
    """The keys, sorted, in statements of at most ``MAX_KEYS``: per statement its
    padded key count and its parameters (level, number, level, number, ...), the
    places past its keys taken by ``_ABSENT``."""
    wanted = sorted({(int(level), int(number)) for level, number in keys})
    out = []
    for start in range(0, len(wanted), MAX_KEYS):
        part = wanted[start:start + MAX_KEYS]
        part += [_ABSENT] * (padded(len(part)) - len(part))
        out.append((len(part), [value for key in part for value in key]))
    return out


def parse(rows: Sequence[Sequence[Any]]) -> ProofRead:
    """The rows of one or more ``statement``: the tiles and the head, the
    smallest one if several statements read it: every tile read was there at
    that size."""
    size, frontier, found, nodes = -1, b"", {}, {}
    for level, number, data, inner in rows:
        if level == HEAD_LEVEL:
            if 0 <= size <= number:
                continue
            size = number
            text = data if isinstance(data, str) else bytes(data).decode("ascii")
            frontier = bytes.fromhex(text)
        else:
            found[(level, number)] = bytes(data)
            if inner is not None:
                nodes[(level, number)] = bytes(inner)
    if size < 0:
        raise AuditUnavailable("the audit log has no head row (run create_tables)")
    hashes = [frontier[i:i + HASH_SIZE] for i in range(0, len(frontier), HASH_SIZE)]
    return ProofRead(size, hashes, found, nodes)


class PostgresProofReader:
    """Connections for proofs, owned by one log and shared by its threads: at
    most ``_KEEP_IDLE`` are kept between proofs, any more are closed. A kept
    connection the server has closed (a restart) is found before use without a
    round trip (``server_hung_up``) and replaced. They are closed when the engine
    is disposed or the reader is collected."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._error = engine.dialect.loaded_dbapi.Error
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        idle, lock = self._idle, self._lock

        def close_all(*_: Any) -> None:
            with lock:
                taken = idle[:]
                idle.clear()
            for conn in taken:
                conn.close()

        event.listen(engine, "engine_disposed", close_all)
        weakref.finalize(self, close_all)

    def read(self, tiles_table: str, head_table: str, keys: Iterable[TileKey]
             ) -> ProofRead:
        rows: list[Any] = []
        for count, params in chunks(keys):
            rows += self._fetch(statement(tiles_table, head_table, count,
                                          postgres=True), params)
        return parse(rows)

    def _fetch(self, sql: str, params: list[int]) -> list[Any]:
        conn = self._take()
        try:
            with conn.cursor(binary=True) as cursor:
                rows = cursor.execute(sql, params, prepare=True).fetchall()
        except self._error as exc:
            conn.close()
            raise AuditUnavailable("could not read the tiles of a proof") from exc
        except BaseException:
            conn.close()
            raise
        self._give(conn)
        return rows

    def _take(self) -> Any:
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._connect()
            if not server_hung_up(conn):
                return conn
            conn.close()

    def _give(self, conn: Any) -> None:
        with self._lock:
            if len(self._idle) < _KEEP_IDLE:
                self._idle.append(conn)
                return
        conn.close()

    def _connect(self) -> Any:
        from psycopg.types.numeric import Int8BinaryDumper, Int8Dumper

        proxied = self._engine.raw_connection()
        proxied.detach()
        conn = proxied.dbapi_connection
        if conn.info.transaction_status:  # the engine's setup left a transaction
            conn.rollback()
        conn.autocommit = True
        # Each statement text is planned once, generically: its plan is the
        # same lookups whatever the keys (see the module docstring).
        conn.execute("SET plan_cache_mode = force_generic_plan")
        # One parameter type for every key, whatever its size: psycopg keys its
        # prepared statements by text and parameter types.
        conn.adapters.register_dumper(int, Int8Dumper)
        conn.adapters.register_dumper(int, Int8BinaryDumper)
        return conn
