"""Baseline: the audit tables of the first release, with one row per subtree hash

Revision ID: a0001_baseline
Revises: (none)

The record, head and checkpoint tables are those ``audit.tables`` still defines,
but for the entries' indexes (a0003 narrowed the trace index, a0004 replaced
the subject index by a table, a0006 moved the others to a table), and the access
records' indexes (a0005 dropped those by organisation and time, a0007 moved
those by trace and actor to a table); a revision that changes them must freeze
their first-release form here first.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from audit.tables import audit_tables

revision = 'a0001_baseline'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    prefix = context.config.attributes["prefix"]
    tables = audit_tables(prefix)
    bind = op.get_bind()
    for table in (tables.entries, tables.access, tables.head, tables.checkpoints):
        table.create(bind)
    # The first release's entries were indexed by organisation and time, and by
    # time (a0006 moved both to a table written behind the log) ...
    entries = tables.entries.name
    op.create_index(f"ix_{entries}_org_time", entries, ["organisation", "started_at_ms"])
    op.create_index(f"ix_{entries}_time", entries, ["started_at_ms"])
    # ... and by trace, an index that also held span_id (a0003).
    op.create_index(f"ix_{entries}_trace", entries, ["trace_id", "span_id"])
    # And it had the entries' subject index (a0004 made it a table).
    op.create_index(f"ix_{prefix}_entries_subject_time", tables.entries.name,
                    ["subject", "started_at_ms"])
    # And the access records were indexed by organisation and by time (a0005).
    op.create_index(f"ix_{prefix}_access_org_time", tables.access.name,
                    ["organisation", "occurred_at_ms"])
    op.create_index(f"ix_{prefix}_access_time", tables.access.name,
                    ["occurred_at_ms"])
    # And by trace and span, and by actor and time (a0007 moved both to a table).
    op.create_index(f"ix_{prefix}_access_trace", tables.access.name,
                    ["trace_id", "span_id"])
    op.create_index(f"ix_{prefix}_access_actor_time", tables.access.name,
                    ["actor", "occurred_at_ms"])
    op.create_table(
        f"{prefix}_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("position", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("level", "position"),
    )


def downgrade() -> None:
    prefix = context.config.attributes["prefix"]
    tables = audit_tables(prefix)
    op.drop_table(f"{prefix}_nodes")
    bind = op.get_bind()
    for table in (tables.checkpoints, tables.head, tables.access, tables.entries):
        table.drop(bind)
