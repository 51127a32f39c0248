"""Intro videos shared with the registry under a grant: one row per copy, with the
copy's data key sealed to the registry (registry/tables_video.py).

Revision ID: 0014_video_share
Revises: 0013_feed_position
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014_video_share'
down_revision = '0013_feed_position'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The table as registry/tables_video.py describes it; nothing existing changes.
    from registry.tables_video import VideoShare

    metadata = sa.MetaData()
    table = VideoShare.__table__.to_metadata(metadata)
    table.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    op.drop_table('video_share')
