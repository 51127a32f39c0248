"""When an API key was revoked: ``api_key.revoked``. A revoked key's row stays
(its hash replaced), so its id names one key for good and is never reused.
Keys revoked before were deleted.

Revision ID: 0020_api_key_revoked
Revises: 0019_policy_notice_lifted
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0020_api_key_revoked'
down_revision = '0019_policy_notice_lifted'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if 'revoked' not in {c['name'] for c in sa.inspect(bind).get_columns(
            'api_key')}:
        op.add_column('api_key', sa.Column(
            'revoked', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_column('revoked')
