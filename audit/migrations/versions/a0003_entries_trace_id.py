"""The entries' trace index on ``trace_id`` alone

Revision ID: a0003_entries_trace_id
Revises: a0002_tiles

Entries are found by trace in two ways: the ``trace_id`` filter, and a
requester's entries, reached from their access records by ``trace_id`` (the
join's other column is the entry's ``parent_span_id``, not its ``span_id``). Both
search on ``trace_id`` only, so ``span_id`` in the index was never used and cost
16 bytes of every entry's index row on each append. The index keeps its name;
only its columns change. No record changes.
"""

from __future__ import annotations

from alembic import context, op

revision = 'a0003_entries_trace_id'
down_revision = 'a0002_tiles'
branch_labels = None
depends_on = None


def upgrade() -> None:
    _trace_index("trace_id")


def downgrade() -> None:
    _trace_index("trace_id", "span_id")


def _trace_index(*columns: str) -> None:
    prefix = context.config.attributes["prefix"]
    name, table = f"ix_{prefix}_entries_trace", f"{prefix}_entries"
    op.drop_index(name, table_name=table)
    op.create_index(name, table, list(columns))
