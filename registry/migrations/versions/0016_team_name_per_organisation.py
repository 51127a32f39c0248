"""A team's name is unique within its organisation, no longer across all of them:
the unique constraint on ``team.name`` gives way to a unique index on
(organisation, name).

Revision ID: 0016_team_name_per_organisation
Revises: 0014_video_share
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016_team_name_per_organisation'
down_revision = '0015_child_tables_without_rowid'
branch_labels = None
depends_on = None

INDEX = 'ix_team_organisation_name'


def upgrade() -> None:
    # 0004 creates the working-life tables from the current models, so a fresh
    # database already has the index and no constraint on the name alone.
    bind = op.get_bind()
    found = sa.inspect(bind)
    alone = [c for c in found.get_unique_constraints('team')
             if c['column_names'] == ['name']]
    if alone and bind.dialect.name == 'sqlite':
        _rebuild_on_sqlite(bind)
    elif alone:
        op.drop_constraint(alone[0]['name'], 'team', type_='unique')
    if INDEX not in {i['name'] for i in sa.inspect(bind).get_indexes('team')}:
        op.create_index(INDEX, 'team', ['organisation', 'name'], unique=True)


def _rebuild_on_sqlite(bind) -> None:
    """SQLite can not drop a constraint: the table is made again from the model.
    Foreign keys are on and this runs in a transaction, where they can not be
    turned off, so the rows that point at a team (members, products, receipts)
    step aside while the table is replaced and come back unchanged."""
    from registry.tables_work import Team

    children = [name for name in sa.inspect(bind).get_table_names()
                if any(fk['referred_table'] == 'team'
                       for fk in sa.inspect(bind).get_foreign_keys(name))]
    for name in ['team', *children]:
        bind.execute(sa.text(f'CREATE TEMPORARY TABLE {name}_copy AS '
                             f'SELECT * FROM {name}'))
    for name in children:
        bind.execute(sa.text(f'DELETE FROM {name}'))
    bind.execute(sa.text('DROP TABLE team'))
    Team.__table__.create(bind)
    for name in ['team', *children]:
        columns = ', '.join(c['name'] for c in sa.inspect(bind).get_columns(name))
        bind.execute(sa.text(f'INSERT INTO {name} ({columns}) '
                             f'SELECT {columns} FROM {name}_copy'))
        bind.execute(sa.text(f'DROP TABLE {name}_copy'))


def downgrade() -> None:
    op.drop_index(INDEX, table_name='team')
    with op.batch_alter_table('team') as batch_op:
        batch_op.create_unique_constraint('team_name_key', ['name'])
