"""A covering index for ranking by skill, chosen from the query plans.

The ranking query starts from the wanted skills. With an index on skill alone
SQLite needs a table lookup per matching row to find the disclosure; with
(skill, disclosure_id) the index answers alone (measured in bench/registry_bench.py).

Revision ID: 0003_skill_index
Revises: 0002_requirements
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003_skill_index'
down_revision = '0002_requirements'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('disclosure_skill', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_disclosure_skill_skill'))
        batch_op.create_index('ix_disclosure_skill_skill_disclosure', ['skill', 'disclosure_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('disclosure_skill', schema=None) as batch_op:
        batch_op.drop_index('ix_disclosure_skill_skill_disclosure')
        batch_op.create_index(batch_op.f('ix_disclosure_skill_skill'), ['skill'], unique=False)

