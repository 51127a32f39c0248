"""The access records' trace and actor indexes become a table written behind the log

Revision ID: a0008_access_keys
Revises: a0007_tile_nodes

The access records' indexes on ``(trace_id, span_id)`` and ``(actor,
occurred_at_ms)`` put some two and a half B-tree pages into every append's
commit (the trace's at a random place), which an answer waits for (invariant
4). The table ``<prefix>_access_keys`` holds those columns with each record's
``idx`` and the same two indexes (the actor's holding the trace and span
too), and is written in batches behind the log with
``<prefix>_subjects`` and ``<prefix>_entry_keys`` (``audit.subject_index``), up
to the same mark. The upgrade copies every access record before the mark into
it (the ones after it are copied by the next batch), then drops the access
records' indexes; no record changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = 'a0008_access_keys'
down_revision = 'a0007_tile_nodes'
branch_labels = None
depends_on = None

# The access records' indexes, and those of the keys table: a requester's
# traces and spans are read from the actor index alone.
_INDEXES = {"trace": ["trace_id", "span_id"],
            "actor_time": ["actor", "occurred_at_ms"]}
_KEYS_INDEXES = {"trace": ["trace_id", "span_id"],
                 "actor_time": ["actor", "occurred_at_ms", "trace_id", "span_id"]}


def upgrade() -> None:
    prefix = context.config.attributes["prefix"]
    keys, access = f"{prefix}_access_keys", f"{prefix}_access"
    op.create_table(
        keys,
        sa.Column("idx", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=False, nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("span_id", sa.String(16), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("occurred_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("idx"),
    )
    bind = op.get_bind()
    # Copied before the indexes exist: one sort each instead of a B-tree insert
    # per record.
    bind.execute(sa.text(
        f"INSERT INTO {keys} (idx, trace_id, span_id, actor, occurred_at_ms) "
        f"SELECT idx, trace_id, span_id, actor, occurred_at_ms FROM {access} "
        f"WHERE idx < (SELECT upto FROM {prefix}_subjects_mark WHERE id = 1)"))
    for name, columns in _KEYS_INDEXES.items():
        op.create_index(f"ix_{keys}_{name}", keys, columns)
        op.drop_index(f"ix_{access}_{name}", table_name=access)


def downgrade() -> None:
    prefix = context.config.attributes["prefix"]
    keys, access = f"{prefix}_access_keys", f"{prefix}_access"
    for name, columns in _INDEXES.items():
        op.create_index(f"ix_{access}_{name}", access, columns)
    op.drop_table(keys)
