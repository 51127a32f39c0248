"""The entries' keys hold each entry's parent span, and the trace index holds it too

Revision ID: a0009_entry_keys_parent
Revises: a0008_access_keys

A DPO's filter by requester found the requester's entries through their access
records' traces alone: every entry of those traces was read from the log, and
only there held to its access record's span, before the page was sorted and
cut. With ``parent_span_id`` in ``<prefix>_entry_keys`` and in its trace index
(``(trace_id, parent_span_id)``, which still serves a filter by trace), the
requester's entries are matched to their access records in the keys alone
(``audit.queries``). The upgrade copies the parent span of every entry the
table holds from the entry itself (the entries after the mark are copied by the
next batch, with it); no record changes, so the log verifies as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = 'a0009_entry_keys_parent'
down_revision = 'a0008_access_keys'
branch_labels = None
depends_on = None


def upgrade() -> None:
    prefix = context.config.attributes["prefix"]
    keys, entries = f"{prefix}_entry_keys", f"{prefix}_entries"
    op.drop_index(f"ix_{keys}_trace", table_name=keys)
    op.add_column(keys, sa.Column("parent_span_id", sa.String(16), nullable=True))
    # Filled before the index exists: one sort instead of a B-tree insert per
    # entry. Entries without a parent span keep NULL, as the batches write them.
    op.get_bind().execute(sa.text(
        f"UPDATE {keys} SET parent_span_id = (SELECT e.parent_span_id FROM "
        f"{entries} AS e WHERE e.idx = {keys}.idx)"))
    op.create_index(f"ix_{keys}_trace", keys, ["trace_id", "parent_span_id"])


def downgrade() -> None:
    prefix = context.config.attributes["prefix"]
    keys = f"{prefix}_entry_keys"
    op.drop_index(f"ix_{keys}_trace", table_name=keys)
    with op.batch_alter_table(keys) as batch:
        batch.drop_column("parent_span_id")
    op.create_index(f"ix_{keys}_trace", keys, ["trace_id"])
