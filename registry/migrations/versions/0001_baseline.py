"""Baseline: the registry schema of the first release, as it was created then

Revision ID: 0001_baseline
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0001_baseline'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('holder',
    sa.Column('did', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('pseudonym', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('last_sequence', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('did'),
    sa.UniqueConstraint('pseudonym')
    )
    op.create_table('organisation',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('sector', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('province_code', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('code')
    )
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_province_code'), ['province_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_organisation_sector'), ['sector'], unique=False)

    op.create_table('withdrawn_grant',
    sa.Column('grant_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('holder_did', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.PrimaryKeyConstraint('grant_id')
    )
    with op.batch_alter_table('withdrawn_grant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_withdrawn_grant_holder_did'), ['holder_did'], unique=False)

    op.create_table('api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('organisation', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation'], ['organisation.code'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash')
    )
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_key_organisation'), ['organisation'], unique=False)

    op.create_table('assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('required_skills', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('optional_skills', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('level_min', sa.Integer(), nullable=True),
    sa.Column('level_max', sa.Integer(), nullable=True),
    sa.Column('hours_per_week', sa.Integer(), nullable=True),
    sa.Column('circle', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['organisation'], ['organisation.code'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignment_organisation'), ['organisation'], unique=False)

    op.create_table('disclosure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grant_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('holder_did', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('audience_kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('audience_ref', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('valid_from', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('valid_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('fields', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('projection', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('document', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('employer_code', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('level_rank', sa.Integer(), nullable=True),
    sa.Column('hours_per_week', sa.Integer(), nullable=True),
    sa.Column('received', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['holder_did'], ['holder.did'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('grant_id')
    )
    with op.batch_alter_table('disclosure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_audience_kind'), ['audience_kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_disclosure_audience_ref'), ['audience_ref'], unique=False)
        batch_op.create_index(batch_op.f('ix_disclosure_employer_code'), ['employer_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_disclosure_holder_did'), ['holder_did'], unique=False)
        batch_op.create_index(batch_op.f('ix_disclosure_valid_until'), ['valid_until'], unique=False)

    op.create_table('disclosure_audience',
    sa.Column('disclosure_id', sa.Integer(), nullable=False),
    sa.Column('organisation', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['disclosure_id'], ['disclosure.id'], ),
    sa.PrimaryKeyConstraint('disclosure_id', 'organisation')
    )
    with op.batch_alter_table('disclosure_audience', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_audience_organisation'), ['organisation'], unique=False)

    op.create_table('disclosure_purpose',
    sa.Column('disclosure_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['disclosure_id'], ['disclosure.id'], ),
    sa.PrimaryKeyConstraint('disclosure_id', 'purpose')
    )
    with op.batch_alter_table('disclosure_purpose', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_purpose_purpose'), ['purpose'], unique=False)

    op.create_table('disclosure_skill',
    sa.Column('disclosure_id', sa.Integer(), nullable=False),
    sa.Column('skill', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['disclosure_id'], ['disclosure.id'], ),
    sa.PrimaryKeyConstraint('disclosure_id', 'skill')
    )
    with op.batch_alter_table('disclosure_skill', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_skill_skill'), ['skill'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('disclosure_skill', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_skill_skill'))

    op.drop_table('disclosure_skill')
    with op.batch_alter_table('disclosure_purpose', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_purpose_purpose'))

    op.drop_table('disclosure_purpose')
    with op.batch_alter_table('disclosure_audience', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_audience_organisation'))

    op.drop_table('disclosure_audience')
    with op.batch_alter_table('disclosure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_valid_until'))
        batch_op.drop_index(batch_op.f('ix_disclosure_holder_did'))
        batch_op.drop_index(batch_op.f('ix_disclosure_employer_code'))
        batch_op.drop_index(batch_op.f('ix_disclosure_audience_ref'))
        batch_op.drop_index(batch_op.f('ix_disclosure_audience_kind'))

    op.drop_table('disclosure')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignment_organisation'))

    op.drop_table('assignment')
    with op.batch_alter_table('api_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_key_organisation'))

    op.drop_table('api_key')
    with op.batch_alter_table('withdrawn_grant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_withdrawn_grant_holder_did'))

    op.drop_table('withdrawn_grant')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_sector'))
        batch_op.drop_index(batch_op.f('ix_organisation_province_code'))

    op.drop_table('organisation')
    op.drop_table('holder')
