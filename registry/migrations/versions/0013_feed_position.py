"""The feed of open assignments in the order they opened: each assignment's place
(``opened``) and the counter that hands places out (``feed_sequence``).

An assignment that is not a draft keeps its id as its place and the counter starts
after the highest id, so a pod's cursor (the last id it fetched) stays valid and
what is open now is not offered again; a draft gets its place when it opens.

Revision ID: 0013_feed_position
Revises: 0012_erased_withdrawal
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013_feed_position'
down_revision = '0012_erased_withdrawal'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('assignment', sa.Column('opened', sa.BigInteger(), nullable=True))
    op.create_index('ix_assignment_opened', 'assignment', ['opened'], unique=True)
    op.create_table(
        'feed_sequence',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('position', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE assignment SET opened = id WHERE status <> 'draft'"))
    bind.execute(sa.text("INSERT INTO feed_sequence (id, position) "
                         "SELECT 1, COALESCE(MAX(id), 0) FROM assignment"))


def downgrade() -> None:
    op.drop_table('feed_sequence')
    with op.batch_alter_table('assignment') as batch_op:
        batch_op.drop_index('ix_assignment_opened')
        batch_op.drop_column('opened')
