"""A disclosure an employer's policy suspends is kept and marked, no longer deleted:
``disclosure.suspended_by`` names the employer whose policy suspended it
(registry/suspension.py). Every stored disclosure is live (the old code deleted
what a policy refused), so every row keeps NULL.

Downgrading deletes the disclosures that are suspended, as the code of before
would have: without the mark they would be shown to their whole audience.

Revision ID: 0018_disclosure_suspension
Revises: 0017_disclosure_video_share
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018_disclosure_suspension'
down_revision = '0017_disclosure_video_share'
branch_labels = None
depends_on = None

_CHILDREN = ('disclosure_purpose', 'disclosure_audience', 'disclosure_skill',
             'match_disclosure', 'match_skill')


def upgrade() -> None:
    bind = op.get_bind()
    if 'suspended_by' not in {c['name'] for c in sa.inspect(bind).get_columns(
            'disclosure')}:
        op.add_column('disclosure', sa.Column('suspended_by', sa.String(length=40),
                                              nullable=True))


def downgrade() -> None:
    bind = op.get_bind()
    disclosure = sa.table('disclosure', sa.column('id', sa.Integer),
                          sa.column('grant_id', sa.String),
                          sa.column('suspended_by', sa.String))
    suspended = disclosure.c.suspended_by.is_not(None)
    ids = sa.select(disclosure.c.id).where(suspended)
    for name in _CHILDREN:
        child = sa.table(name, sa.column('disclosure_id', sa.Integer))
        bind.execute(sa.delete(child).where(child.c.disclosure_id.in_(ids)))
    shares = sa.table('video_share', sa.column('grant_id', sa.String))
    bind.execute(sa.delete(shares).where(shares.c.grant_id.in_(
        sa.select(disclosure.c.grant_id).where(suspended))))
    bind.execute(sa.delete(disclosure).where(suspended))
    op.drop_column('disclosure', 'suspended_by')
