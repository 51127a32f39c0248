"""The match index: integer terms, one row per (disclosure, reach key) and one per
(skill, reach key, disclosure), back-filled from the stored disclosures so that an
upgrade keeps every holder rankable (``registry.tables_match``).

The back-fill reads the disclosures in batches by id and writes their index rows
with the same function ingest uses (``registry.match_index.write_entries``).

Revision ID: 0009_match_index
Revises: 0008_web_session
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0009_match_index'
down_revision = '0008_web_session'
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    op.create_table(
        'match_term',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('term', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('term'),
    )
    op.create_table(
        'match_disclosure',
        sa.Column('disclosure_id', sa.Integer(), nullable=False),
        sa.Column('reach', sa.Integer(), nullable=False),
        sa.Column('pseudonym', sqlmodel.sql.sqltypes.AutoString(length=32),
                  nullable=False),
        sa.Column('sequence', sa.Integer(), nullable=False),
        *_live(),
        sa.Column('employer_code', sqlmodel.sql.sqltypes.AutoString(length=40),
                  nullable=True),
        sa.Column('level_rank', sa.Integer(), nullable=True),
        sa.Column('hours_per_week', sa.Integer(), nullable=True),
        sa.Column('available_from', sa.Date(), nullable=True),
        sa.Column('available_until', sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(['disclosure_id'], ['disclosure.id']),
        sa.PrimaryKeyConstraint('pseudonym', 'disclosure_id', 'reach'),
        sqlite_with_rowid=False,
    )
    op.create_index('ix_match_disclosure_disclosure_id', 'match_disclosure',
                    ['disclosure_id'], unique=False)
    op.create_index('ix_match_disclosure_employer_code', 'match_disclosure',
                    ['employer_code'], unique=False)
    op.create_table(
        'match_skill',
        sa.Column('skill', sa.Integer(), nullable=False),
        sa.Column('reach', sa.Integer(), nullable=False),
        sa.Column('pseudonym', sqlmodel.sql.sqltypes.AutoString(length=32),
                  nullable=False),
        sa.Column('disclosure_id', sa.Integer(), nullable=False),
        *_live(),
        sa.ForeignKeyConstraint(['disclosure_id'], ['disclosure.id']),
        sa.PrimaryKeyConstraint('skill', 'reach', 'pseudonym', 'disclosure_id'),
        sqlite_with_rowid=False,
    )
    op.create_index('ix_match_skill_disclosure_id', 'match_skill',
                    ['disclosure_id'], unique=False)
    _back_fill(op.get_bind())


def _live() -> list:
    return [sa.Column(name, sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False)
            for name in ('valid_from', 'valid_until')]


def downgrade() -> None:
    op.drop_index('ix_match_skill_disclosure_id', table_name='match_skill')
    op.drop_table('match_skill')
    op.drop_index('ix_match_disclosure_employer_code', table_name='match_disclosure')
    op.drop_index('ix_match_disclosure_disclosure_id', table_name='match_disclosure')
    op.drop_table('match_disclosure')
    op.drop_table('match_term')


def _back_fill(conn) -> None:
    from registry.extract import Extracted
    from registry.match_index import IndexEntry, write_entries
    from registry.tables import Disclosure, DisclosureAudience, DisclosurePurpose
    from registry.tables import DisclosureSkill, Holder

    d, h = Disclosure.__table__, Holder.__table__
    children = {name: table.__table__ for name, table in (
        ("purpose", DisclosurePurpose), ("organisation", DisclosureAudience),
        ("skill", DisclosureSkill))}
    after = 0
    while True:
        rows = conn.execute(
            sa.select(d.c.id, h.c.pseudonym, d.c.sequence, d.c.valid_from,
                      d.c.valid_until, d.c.audience_kind, d.c.audience_ref,
                      d.c.employer_code, d.c.level_rank, d.c.hours_per_week,
                      d.c.available_from, d.c.available_until)
            .join(h, h.c.did == d.c.holder_did)
            .where(d.c.id > after).order_by(d.c.id).limit(BATCH)).all()
        if not rows:
            return
        ids = [r.id for r in rows]
        found = {name: _children(conn, t, name, ids) for name, t in children.items()}
        write_entries(conn, [IndexEntry(
            r.id, r.pseudonym, r.sequence, r.valid_from, r.valid_until,
            r.audience_kind, r.audience_ref, tuple(found["organisation"][r.id]),
            tuple(found["purpose"][r.id]),
            Extracted(tuple(sorted(found["skill"][r.id])), r.employer_code,
                      r.level_rank, r.hours_per_week, r.available_from,
                      r.available_until)) for r in rows])
        after = ids[-1]


def _children(conn, table, name: str, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = defaultdict(list)
    for disclosure_id, value in conn.execute(sa.select(
            table.c.disclosure_id, table.c[name]).where(
            table.c.disclosure_id.in_(ids))):
        out[disclosure_id].append(value)
    return out
