"""The access records lose their organisation and time indexes

Revision ID: a0005_access_indexes
Revises: a0004_subjects_table

No question the log answers searched the access records by organisation or by
time: the DPO's filters on organisation and period are the entries', and an
access record is found by the entries' join (trace and span) or by requester
(``actor``). Retention, the one reader of their time, finds the first record to
keep by walking them in log order from the pruned ones. Each of the two indexes
still cost every append a B-tree insert and a page in the commit its answer
waits for (invariant 4). No record changes.
"""

from __future__ import annotations

from alembic import context, op

revision = 'a0005_access_indexes'
down_revision = 'a0004_subjects_table'
branch_labels = None
depends_on = None


def upgrade() -> None:
    prefix = context.config.attributes["prefix"]
    table = f"{prefix}_access"
    op.drop_index(f"ix_{table}_org_time", table_name=table)
    op.drop_index(f"ix_{table}_time", table_name=table)


def downgrade() -> None:
    prefix = context.config.attributes["prefix"]
    table = f"{prefix}_access"
    op.create_index(f"ix_{table}_org_time", table, ["organisation", "occurred_at_ms"])
    op.create_index(f"ix_{table}_time", table, ["occurred_at_ms"])
