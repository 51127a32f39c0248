"""Each full tile keeps its node hashes

Revision ID: a0007_tile_nodes
Revises: a0006_entry_keys

A proof of a leaf whose tile was not cached hashed that tile's 255 inner nodes
(``audit.tiles``), about half of the proof's CPU on PostgreSQL. The column
``nodes`` of ``<prefix>_tiles`` holds them for every full tile (``NULL`` for a
partial one), written by the append that completes the tile. The upgrade fills
it for the full tiles already stored, computed from their stored hashes; ``verify``
checks them against those hashes. No record, hash or root changes, so every
checkpoint signed before still verifies.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from audit.tiles import NODES_BYTES, TILE_BYTES, inner_nodes

revision = 'a0007_tile_nodes'
down_revision = 'a0006_entry_keys'
branch_labels = None
depends_on = None

_PAGE = 500  # tiles read and updated per statement while filling


def upgrade() -> None:
    prefix = context.config.attributes["prefix"]
    table = f"{prefix}_tiles"
    op.add_column(table, sa.Column("nodes", sa.LargeBinary(NODES_BYTES),
                                   nullable=True))
    bind = op.get_bind()
    select = sa.text(
        f"SELECT level, number, hashes FROM {table} WHERE length(hashes) = "
        f"{TILE_BYTES} AND (level > :level OR (level = :level AND number > :number)) "
        f"ORDER BY level, number LIMIT {_PAGE}")
    update = sa.text(f"UPDATE {table} SET nodes = :nodes "
                     "WHERE level = :level AND number = :number")
    after = {"level": -1, "number": -1}
    while True:
        page = bind.execute(select, after).all()
        if not page:
            return
        bind.execute(update, [{"level": level, "number": number,
                               "nodes": inner_nodes(bytes(data))}
                              for level, number, data in page])
        after = {"level": page[-1][0], "number": page[-1][1]}


def downgrade() -> None:
    prefix = context.config.attributes["prefix"]
    op.drop_column(f"{prefix}_tiles", "nodes")
