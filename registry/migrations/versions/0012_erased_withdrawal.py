"""What an erasure keeps of each grant the holder withdrew: a keyed hash of the
grant id, so a backup imported after the erasure can not disclose under it again
(``registry.withdrawn``).

Revision ID: 0012_erased_withdrawal
Revises: 0011_group_founder
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0012_erased_withdrawal'
down_revision = '0011_group_founder'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'erased_withdrawal',
        sa.Column('grant_key', sqlmodel.sql.sqltypes.AutoString(length=64),
                  nullable=False),
        sa.PrimaryKeyConstraint('grant_key'),
    )


def downgrade() -> None:
    op.drop_table('erased_withdrawal')
