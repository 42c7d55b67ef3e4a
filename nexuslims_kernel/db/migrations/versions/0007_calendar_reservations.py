"""Calendar harvest: reservations (they fill record headers) and per-server harvest cursors.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from nexuslims_kernel.db.base import JSONType, UTCDateTime

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'reservations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('instrument_id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('external_id', sa.String(length=300), nullable=False),
        sa.Column('start', UTCDateTime(), nullable=False),
        sa.Column('end', UTCDateTime(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=True),
        sa.Column('project_id', sa.Integer(), nullable=True),
        sa.Column('details', JSONType, nullable=False),
        sa.Column('cancelled', sa.Boolean(), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['instrument_id'], ['instruments.id'], name=op.f('fk_reservations_instrument_id_instruments'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_reservations_person_id_people'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_reservations_project_id_projects'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reservations')),
        sa.UniqueConstraint('source', 'external_id', name=op.f('uq_reservations_source_external_id')),
    )
    op.create_index('ix_reservations_instrument_start', 'reservations', ['instrument_id', 'start'])
    op.create_table(
        'harvest_state',
        sa.Column('key', sa.String(length=400), nullable=False),
        sa.Column('cursor', JSONType, nullable=False),
        sa.Column('last_ok_at', UTCDateTime(), nullable=True),
        sa.Column('last_full_at', UTCDateTime(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_harvest_state')),
    )


def downgrade() -> None:
    op.drop_table('harvest_state')
    op.drop_index('ix_reservations_instrument_start', table_name='reservations')
    op.drop_table('reservations')
