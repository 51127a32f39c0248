"""Assignment requirements, lifecycle and passes; the availability period as columns.

Existing disclosures that carry the available period get it in the new columns
(read from their stored projection), and an assignment of a municipality is
located in that municipality, so that an upgrade loses nothing the ranking uses.

Revision ID: 0002_requirements
Revises: 0001_baseline
"""

from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0002_requirements'
down_revision = '0001_baseline'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assignment_pass',
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('pseudonym', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignment.id'], ),
    sa.PrimaryKeyConstraint('assignment_id', 'pseudonym')
    )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('optional_weights', sqlmodel.sql.sqltypes.AutoString(), server_default='{}', nullable=False))
        batch_op.add_column(sa.Column('function_family', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('period_start', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('period_end', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('field_of_work', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('location', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('remote', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('circle_ref', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('freelancers', sa.Boolean(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('updated', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))

    with op.batch_alter_table('disclosure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('available_from', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('available_until', sa.Date(), nullable=True))
    _backfill()


def _backfill() -> None:
    conn = op.get_bind()
    disclosure = sa.table("disclosure", sa.column("id"), sa.column("fields"),
                          sa.column("projection"), sa.column("available_from", sa.Date),
                          sa.column("available_until", sa.Date))
    rows = conn.execute(sa.select(disclosure.c.id, disclosure.c.fields,
                                  disclosure.c.projection)).all()
    for row in rows:
        if "available_period" not in row.fields.split():
            continue
        period = json.loads(row.projection).get("availability", {}).get("period", {})
        conn.execute(disclosure.update().where(disclosure.c.id == row.id).values(
            available_from=_date(period.get("startDate")),
            available_until=_date(period.get("endDate"))))
    assignment = sa.table("assignment", sa.column("organisation"),
                          sa.column("location"))
    conn.execute(assignment.update().where(assignment.c.organisation.like("GM%"))
                 .values(location=assignment.c.organisation))


def _date(text):
    return date.fromisoformat(text) if isinstance(text, str) else None


def downgrade() -> None:
    with op.batch_alter_table('disclosure', schema=None) as batch_op:
        batch_op.drop_column('available_until')
        batch_op.drop_column('available_from')

    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_column('updated')
        batch_op.drop_column('freelancers')
        batch_op.drop_column('circle_ref')
        batch_op.drop_column('remote')
        batch_op.drop_column('location')
        batch_op.drop_column('field_of_work')
        batch_op.drop_column('period_end')
        batch_op.drop_column('period_start')
        batch_op.drop_column('function_family')
        batch_op.drop_column('optional_weights')

    op.drop_table('assignment_pass')
