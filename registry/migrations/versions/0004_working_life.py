"""Working life after matching: swipes, teams, products, interest groups, receipts

Revision ID: 0004_working_life
Revises: 0003_skill_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004_working_life'
down_revision = '0003_skill_index'
branch_labels = None
depends_on = None

TABLES = ("swipe", "team", "team_member", "team_product", "interest_group",
          "group_member", "rating_receipt")


def upgrade() -> None:
    # The tables as registry/tables_work.py describes them, created in dependency
    # order; nothing existing is touched.
    from registry.tables_work import WORK_TABLE_NAMES
    from sqlmodel import SQLModel

    assert set(TABLES) == WORK_TABLE_NAMES
    metadata = sa.MetaData()
    for table in SQLModel.metadata.sorted_tables:  # referenced tables too
        table.to_metadata(metadata)
    bind = op.get_bind()
    for table in metadata.sorted_tables:
        if table.name in WORK_TABLE_NAMES:
            table.create(bind, checkfirst=True)


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
