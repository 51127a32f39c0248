"""When a later policy of the employer lifted the suspension a notice tells of:
``policy_notice.lifted``, shown in the holder's consent history beside the
suspension. Notices stored before keep NULL: when their suspensions were lifted,
if they were, was not recorded.

Revision ID: 0019_policy_notice_lifted
Revises: 0018_disclosure_suspension
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0019_policy_notice_lifted'
down_revision = '0018_disclosure_suspension'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if 'lifted' not in {c['name'] for c in sa.inspect(bind).get_columns(
            'policy_notice')}:
        op.add_column('policy_notice', sa.Column(
            'lifted', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('policy_notice', schema=None) as batch_op:
        batch_op.drop_column('lifted')
