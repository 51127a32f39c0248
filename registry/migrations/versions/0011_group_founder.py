"""Who founded an interest group (the holder's pseudonym), so that what one holder
founds can be bounded (``registry.limits``). Groups made before it have none and
count for nobody.

Revision ID: 0011_group_founder
Revises: 0010_match_change
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011_group_founder'
down_revision = '0010_match_change'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0004 creates the working-life tables from the current models, so a fresh
    # database already has the column.
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns(
        "interest_group")}
    if "founder" not in columns:
        op.add_column('interest_group',
                      sa.Column('founder', sa.String(length=32), nullable=True))
    indexes = {i["name"] for i in sa.inspect(op.get_bind()).get_indexes(
        "interest_group")}
    if "ix_interest_group_founder" not in indexes:
        op.create_index('ix_interest_group_founder', 'interest_group', ['founder'],
                        unique=False)


def downgrade() -> None:
    op.drop_index('ix_interest_group_founder', table_name='interest_group')
    op.drop_column('interest_group', 'founder')
