"""ETag (or generation) of each indexed object: a re-scan of a bucket store skips unchanged keys.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('indexed_files', sa.Column('etag', sa.String(200), nullable=True))


def downgrade() -> None:
    op.drop_column('indexed_files', 'etag')
