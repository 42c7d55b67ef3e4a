"""Curation, record versions and DOIs (``publish``): ``record_curation``, ``dataset_curation``, ``record_versions``.

Revision ID: 0011
Revises: 0010 (the brief said 0007; 0010 is already on this branch, so chaining after
it keeps one head; the integrator re-chains)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from nexuslims_kernel.db.base import JSONType, UTCDateTime

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'record_curation',
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('fields', JSONType, nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('doi', sa.String(length=200), nullable=True),
        sa.Column('doi_state', sa.String(length=20), nullable=True),
        sa.Column('published_version', sa.Integer(), nullable=True),
        sa.Column('published_at', UTCDateTime(), nullable=True),
        sa.Column('publish_error', sa.Text(), nullable=True),
        sa.Column('search_suffix', sa.Text(), nullable=True),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_record_curation_record_id_records'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('record_id', name=op.f('pk_record_curation')),
    )
    op.create_table(
        'dataset_curation',
        sa.Column('dataset_id', sa.Integer(), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('hidden', sa.Boolean(), nullable=False),
        sa.Column('featured', sa.Boolean(), nullable=False),
        sa.Column('caption', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], name=op.f('fk_dataset_curation_dataset_id_datasets'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_dataset_curation_record_id_records'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('dataset_id', name=op.f('pk_dataset_curation')),
    )
    op.create_index('ix_dataset_curation_record', 'dataset_curation', ['record_id'])
    op.create_table(
        'record_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('record_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=200), nullable=False),
        sa.Column('diff', JSONType, nullable=False),
        sa.Column('snapshot', JSONType, nullable=False),
        sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_record_versions_record_id_records'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_record_versions')),
        sa.UniqueConstraint('record_id', 'version', name=op.f('uq_record_versions_record_id')),
    )


def downgrade() -> None:
    op.drop_table('record_versions')
    op.drop_index('ix_dataset_curation_record', table_name='dataset_curation')
    op.drop_table('dataset_curation')
    op.drop_table('record_curation')
