"""Fixity audits: one row per re-hash of a stored file (ops.fixity).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from nexuslims_kernel.db.base import UTCDateTime

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'fixity_checks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('file_id', sa.Integer(), nullable=False),
        sa.Column('checked_at', UTCDateTime(), nullable=False),
        sa.Column('outcome', sa.String(length=12), nullable=False),
        sa.Column('expected_sha256', sa.String(length=64), nullable=False),
        sa.Column('actual_sha256', sa.String(length=64), nullable=True),
        sa.Column('size', sa.BigInteger(), nullable=True),
        sa.Column('detail', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['file_id'], ['indexed_files.id'], name=op.f('fk_fixity_checks_file_id_indexed_files'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_fixity_checks')),
    )
    op.create_index('ix_fixity_checks_file', 'fixity_checks', ['file_id', 'id'])
    op.create_index('ix_fixity_checks_outcome', 'fixity_checks', ['outcome'])


def downgrade() -> None:
    op.drop_index('ix_fixity_checks_outcome', table_name='fixity_checks')
    op.drop_index('ix_fixity_checks_file', table_name='fixity_checks')
    op.drop_table('fixity_checks')
