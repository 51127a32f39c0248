"""The copy of the intro video each disclosure names, as an indexed column of
``disclosure``: a disclosure naming a copy another grant named first is refused
before that copy arrives (registry/video_shares.py, ``check_own_share``).
Disclosures stored before are read once and get the share their projection names.

Revision ID: 0017_disclosure_video_share
Revises: 0016_team_name_per_organisation
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = '0017_disclosure_video_share'
down_revision = '0016_team_name_per_organisation'
branch_labels = None
depends_on = None

INDEX = 'ix_disclosure_video_share'
_BATCH = 1000


def upgrade() -> None:
    bind = op.get_bind()
    if 'video_share' not in {c['name'] for c in sa.inspect(bind).get_columns(
            'disclosure')}:
        op.add_column('disclosure',
                      sa.Column('video_share', sa.String(length=32), nullable=True))
    if INDEX not in {i['name'] for i in sa.inspect(bind).get_indexes('disclosure')}:
        op.create_index(INDEX, 'disclosure', ['video_share'], unique=False)
    _fill(bind)


def _fill(bind) -> None:
    """Only a disclosure granting ``intro_video`` names a copy; its projection is
    read as the registry reads it (``named_share``), in batches by id."""
    from registry.video_shares import named_share

    table = sa.table('disclosure', sa.column('id', sa.Integer),
                     sa.column('fields', sa.String), sa.column('projection', sa.String),
                     sa.column('video_share', sa.String))
    after = 0
    while True:
        rows = bind.execute(sa.select(table.c.id, table.c.fields, table.c.projection)
                            .where(table.c.id > after,
                                   table.c.fields.like('%intro_video%'))
                            .order_by(table.c.id).limit(_BATCH)).all()
        if not rows:
            return
        for row in rows:
            share = named_share(row.fields.split(), json.loads(row.projection))
            if share is not None:
                bind.execute(sa.update(table).where(table.c.id == row.id)
                             .values(video_share=share))
        after = rows[-1].id


def downgrade() -> None:
    op.drop_index(INDEX, table_name='disclosure')
    op.drop_column('disclosure', 'video_share')
