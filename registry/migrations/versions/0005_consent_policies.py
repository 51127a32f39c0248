"""Employer policies on audiences, declared legal bases, policy notices, and the
employer a disclosure names for its employer's policy.

Revision ID: 0005_consent_policies
Revises: 0004_working_life
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0005_consent_policies'
down_revision = '0004_working_life'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'employer_policy',
        sa.Column('organisation', sa.String(length=40), nullable=False),
        sa.Column('policy', sa.String(), nullable=False),
        sa.Column('updated', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['organisation'], ['organisation.code']),
        sa.PrimaryKeyConstraint('organisation'))
    op.create_table(
        'legal_basis',
        sa.Column('organisation', sa.String(length=40), nullable=False),
        sa.Column('purpose', sa.String(length=40), nullable=False),
        sa.Column('basis', sa.String(length=40), nullable=False),
        sa.Column('declared', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['organisation'], ['organisation.code']),
        sa.PrimaryKeyConstraint('organisation', 'purpose'))
    op.create_table(
        'policy_notice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('holder_did', sa.String(length=80), nullable=False),
        sa.Column('grant_id', sa.String(length=200), nullable=False),
        sa.Column('organisation', sa.String(length=40), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('policy_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_notice_holder_did'), ['holder_did'],
                              unique=False)
    with op.batch_alter_table('disclosure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('policy_employer', sa.String(length=40),
                                      nullable=True))
        batch_op.create_index(batch_op.f('ix_disclosure_policy_employer'),
                              ['policy_employer'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('disclosure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_policy_employer'))
        batch_op.drop_column('policy_employer')
    op.drop_table('policy_notice')
    op.drop_table('legal_basis')
    op.drop_table('employer_policy')
