"""SQLite: the disclosure's purpose, audience and skill rows kept in their primary
key's tree alone (WITHOUT ROWID), as ``registry/tables.py`` describes them.

A rowid table with a composite primary key is two trees: the rows by rowid and
the key's automatic index. Every row written was two B-tree inserts, and its key
stored twice. Measured on a disclosure_skill-shaped table (60,000 disclosures of
eight skills, executemany in key order): 13.2 against 8.7 us of CPU per
disclosure to insert, 31 against 23 with the secondary index built and the
commit, and a third less on disk. The tables are copied into the new shape with
every row and index (Alembic's batch mode); PostgreSQL has no rowid and is left
as it is.

Revision ID: 0015_child_tables_without_rowid
Revises: 0014_video_share
"""

from __future__ import annotations

from alembic import op

revision = '0015_child_tables_without_rowid'
down_revision = '0014_video_share'
branch_labels = None
depends_on = None

TABLES = ('disclosure_purpose', 'disclosure_audience', 'disclosure_skill')


def upgrade() -> None:
    _recreate(with_rowid=False)


def downgrade() -> None:
    _recreate(with_rowid=True)


def _recreate(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for name in TABLES:
        with op.batch_alter_table(name, recreate='always',
                                  table_kwargs={'sqlite_with_rowid': with_rowid}):
            pass
