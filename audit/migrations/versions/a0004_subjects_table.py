"""The entries by subject as a table written behind the log, not an index

Revision ID: a0004_subjects_table
Revises: a0003_entries_trace_id

An index on ``(subject, started_at_ms)`` put a B-tree page per data subject into
every append's commit, which an answer waits for (invariant 4). The table
``<prefix>_subjects`` holds the same pairs with each entry's ``idx`` and is
written in batches behind the log (``audit.subject_index``) up to the mark in
``<prefix>_subjects_mark``. The upgrade copies every entry into it and sets the
mark at the head's size, then drops the index; no record changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = 'a0004_subjects_table'
down_revision = 'a0003_entries_trace_id'
branch_labels = None
depends_on = None


def upgrade() -> None:
    prefix = context.config.attributes["prefix"]
    op.create_table(
        f"{prefix}_subjects",
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("started_at_ms", sa.BigInteger(), autoincrement=False,
                  nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("subject", "started_at_ms", "idx"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        f"{prefix}_subjects_mark",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("upto", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint("id = 1", name=f"ck_{prefix}_subjects_mark_one_row"),
    )
    bind = op.get_bind()
    bind.execute(sa.text(
        f"INSERT INTO {prefix}_subjects (subject, started_at_ms, idx) "
        f"SELECT subject, started_at_ms, idx FROM {prefix}_entries"))
    size = bind.execute(sa.text(f"SELECT size FROM {prefix}_head")).scalar() or 0
    bind.execute(sa.text(f"INSERT INTO {prefix}_subjects_mark (id, upto) "
                         "VALUES (1, :size)"), {"size": size})
    op.drop_index(f"ix_{prefix}_entries_subject_time",
                  table_name=f"{prefix}_entries")


def downgrade() -> None:
    prefix = context.config.attributes["prefix"]
    op.create_index(f"ix_{prefix}_entries_subject_time", f"{prefix}_entries",
                    ["subject", "started_at_ms"])
    op.drop_table(f"{prefix}_subjects_mark")
    op.drop_table(f"{prefix}_subjects")
