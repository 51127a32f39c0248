"""The tree's hashes as tiles of 256 (c2sp.org/tlog-tiles) instead of one row per
subtree hash

Revision ID: a0002_tiles
Revises: a0001_baseline

Only every eighth tree level is kept (``audit.tiles``); the levels between are
recomputed by proofs. The leaves and so every root stay the same, so checkpoints
signed before the upgrade still verify. A log whose stored hashes have a gap is not
converted: the upgrade fails and changes nothing (run verify on the previous
release to find the place).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from audit.tiles import HEIGHT, TILE_BYTES, WIDTH, subtree_root, tiles_of

revision = 'a0002_tiles'
down_revision = 'a0001_baseline'
branch_labels = None
depends_on = None

_PAGE = 256 * 1024  # hashes read per query while converting


def upgrade() -> None:
    prefix = context.config.attributes["prefix"]
    op.create_table(
        f"{prefix}_tiles",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hashes", sa.LargeBinary(TILE_BYTES), nullable=False),
        sa.PrimaryKeyConstraint("level", "number"),
    )
    bind = op.get_bind()
    size = bind.execute(sa.text(f"SELECT size FROM {prefix}_head")).scalar() or 0
    level = 0
    while size >> level:
        hashes = _level_hashes(bind, f"{prefix}_nodes", level, size >> level)
        insert = sa.text(f"INSERT INTO {prefix}_tiles (level, number, hashes) "
                         "VALUES (:level, :number, :hashes)")
        rows = []
        for number, data in tiles_of(level, hashes):
            rows.append({"level": level // HEIGHT, "number": number, "hashes": data})
            if len(rows) == 1000:
                bind.execute(insert, rows)
                rows = []
        if rows:
            bind.execute(insert, rows)
        level += HEIGHT
    op.drop_table(f"{prefix}_nodes")


def _level_hashes(bind: sa.Connection, table: str, level: int, count: int):
    """The ``count`` stored hashes of ``level`` in order, read a page at a time;
    a gap, a duplicate or a hash too many stops the upgrade."""
    select = sa.text(f"SELECT position, hash FROM {table} WHERE level = :level "
                     "AND position >= :start AND position < :end ORDER BY position")
    for start in range(0, count, _PAGE):
        end = min(count, start + _PAGE)
        page = bind.execute(select, {"level": level, "start": start, "end": end}).all()
        if [p for p, _h in page] != list(range(start, end)):
            raise RuntimeError(f"the audit log's stored hashes at level {level} have "
                               f"a gap between {start} and {end}; not converted")
        yield from (bytes(h) for _p, h in page)
    extra = bind.execute(sa.text(f"SELECT count(*) FROM {table} WHERE level = :level "
                                 "AND position >= :count"),
                         {"level": level, "count": count}).scalar()
    if extra:
        raise RuntimeError(f"the audit log has hashes at level {level} beyond its "
                           "head; not converted")


def downgrade() -> None:
    prefix = context.config.attributes["prefix"]
    op.create_table(
        f"{prefix}_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("level", "position"),
    )
    bind = op.get_bind()
    insert = sa.text(f"INSERT INTO {prefix}_nodes (level, position, hash) "
                     "VALUES (:level, :position, :hash)")
    tiles = bind.execute(sa.text(f"SELECT level, number, hashes FROM {prefix}_tiles "
                                 "ORDER BY level, number"))
    for tile_level, number, data in tiles.all():
        bind.execute(insert, list(_tile_nodes(tile_level, number, bytes(data))))
    op.drop_table(f"{prefix}_tiles")


def _tile_nodes(tile_level: int, number: int, data: bytes):
    """Every complete subtree hash of the eight tree levels one tile gives."""
    for rest in range(HEIGHT):
        width = 32 << rest
        first = (number * WIDTH) >> rest
        for i in range(len(data) // width):
            yield {"level": tile_level * HEIGHT + rest, "position": first + i,
                   "hash": subtree_root(data[i * width:(i + 1) * width])}
