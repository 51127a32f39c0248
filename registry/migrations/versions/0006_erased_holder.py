"""What stays of an erased holder: the pseudonym and the last sequence number, so an
old signed document can not bring the holder's data back (GDPR art. 17).

Revision ID: 0006_erased_holder
Revises: 0005_consent_policies
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0006_erased_holder'
down_revision = '0005_consent_policies'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'erased_holder',
        sa.Column('pseudonym', sqlmodel.sql.sqltypes.AutoString(length=32),
                  nullable=False),
        sa.Column('last_sequence', sa.Integer(), nullable=False),
        sa.Column('erased', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('pseudonym'),
    )


def downgrade() -> None:
    op.drop_table('erased_holder')
