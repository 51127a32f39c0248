"""The match index's change log and the triggers that write it
(``registry.match_changes``): a process's in-memory ranking index replays it.

Existing index rows need no log rows: a reader starts with a full load.

Revision ID: 0010_match_change
Revises: 0009_match_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010_match_change'
down_revision = '0009_match_index'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from registry.match_changes import install_triggers

    op.create_table(
        'match_change',
        sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  autoincrement=True, nullable=False),
        sa.Column('disclosure_id', sa.Integer(), nullable=False),
        sa.Column('transaction_id', sa.BigInteger(), nullable=True),
        sa.Column('created', sa.DateTime(), nullable=False,
                  server_default=sa.text('CURRENT_TIMESTAMP')),
        sa.PrimaryKeyConstraint('seq'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_match_change_transaction_id', 'match_change',
                    ['transaction_id'], unique=False)
    install_triggers(op.get_bind())


def downgrade() -> None:
    bind = op.get_bind()
    for kind in ("insert", "delete", "update"):
        name = f"match_change_on_{kind}"
        bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON match_disclosure"
                             if bind.dialect.name == "postgresql"
                             else f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index('ix_match_change_transaction_id', table_name='match_change')
    op.drop_table('match_change')
