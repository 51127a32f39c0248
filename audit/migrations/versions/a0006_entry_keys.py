"""The entries' organisation, time and trace as a table written behind the log

Revision ID: a0006_entry_keys
Revises: a0005_access_indexes

The entries' indexes on ``(organisation, started_at_ms)``, ``started_at_ms`` and
``trace_id`` put some seven B-tree pages into every append's commit, which an
answer waits for (invariant 4). The table ``<prefix>_entry_keys`` holds those
columns with each entry's ``idx`` and the same three indexes, and is written in
batches behind the log with ``<prefix>_subjects`` (``audit.subject_index``), up
to the same mark. The upgrade copies every entry before the mark into it (the
ones after it are copied by the next batch, as the subjects are), then drops the
entries' indexes; no record changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = 'a0006_entry_keys'
down_revision = 'a0005_access_indexes'
branch_labels = None
depends_on = None

_INDEXES = {"org_time": ["organisation", "started_at_ms"],
            "time": ["started_at_ms"], "trace": ["trace_id"]}


def upgrade() -> None:
    prefix = context.config.attributes["prefix"]
    keys, entries = f"{prefix}_entry_keys", f"{prefix}_entries"
    op.create_table(
        keys,
        sa.Column("idx", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  autoincrement=False, nullable=False),
        sa.Column("organisation", sa.Text(), nullable=False),
        sa.Column("started_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("idx"),
    )
    bind = op.get_bind()
    # Copied before the indexes exist: one sort each instead of a B-tree insert
    # per entry.
    bind.execute(sa.text(
        f"INSERT INTO {keys} (idx, organisation, started_at_ms, trace_id) "
        f"SELECT idx, organisation, started_at_ms, trace_id FROM {entries} "
        f"WHERE idx < (SELECT upto FROM {prefix}_subjects_mark WHERE id = 1)"))
    for name, columns in _INDEXES.items():
        op.create_index(f"ix_{keys}_{name}", keys, columns)
        op.drop_index(f"ix_{entries}_{name}", table_name=entries)


def downgrade() -> None:
    prefix = context.config.attributes["prefix"]
    keys, entries = f"{prefix}_entry_keys", f"{prefix}_entries"
    for name, columns in _INDEXES.items():
        op.create_index(f"ix_{entries}_{name}", entries, columns)
    op.drop_table(keys)
