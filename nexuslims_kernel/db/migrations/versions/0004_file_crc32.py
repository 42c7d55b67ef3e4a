"""CRC-32 beside sha256 in the file index: zips of built records stream without re-reading files for a CRC.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('indexed_files', sa.Column('crc32', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column('indexed_files', 'crc32')
