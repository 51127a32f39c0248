"""Browser sessions of organisations: the hash of a session token, the API key it
was exchanged for, and when it ends.

Revision ID: 0008_web_session
Revises: 0007_employment
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0008_web_session'
down_revision = '0007_employment'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'web_session',
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64),
                  nullable=False),
        sa.Column('key_id', sa.Integer(), nullable=False),
        sa.Column('expires', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['key_id'], ['api_key.id']),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    op.create_index(op.f('ix_web_session_key_id'), 'web_session', ['key_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_web_session_key_id'), table_name='web_session')
    op.drop_table('web_session')
