"""Employment as organisations attest it: who counts as a member of an organisation
when a holder acts as a requester.

Revision ID: 0007_employment
Revises: 0006_erased_holder
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0007_employment'
down_revision = '0006_erased_holder'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'employment',
        sa.Column('organisation', sqlmodel.sql.sqltypes.AutoString(length=40),
                  nullable=False),
        sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=32),
                  nullable=False),
        sa.Column('attested', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['organisation'], ['organisation.code']),
        sa.PrimaryKeyConstraint('organisation', 'subject'),
    )


def downgrade() -> None:
    op.drop_table('employment')
