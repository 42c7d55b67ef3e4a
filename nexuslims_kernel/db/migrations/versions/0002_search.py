"""Full-text search on records (FTS5 / tsvector), personal API tokens, list indexes.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from nexuslims_kernel.db.base import UTCDateTime
from nexuslims_kernel.db.search import ddl

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('last_used_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_api_tokens_person_id_people'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_index(op.f('ix_api_tokens_person_id'), 'api_tokens', ['person_id'])
    # Keyset pagination by start and the dataset facet/filter joins.
    op.create_index('ix_records_start_id', 'records', ['start', 'id'])
    op.create_index('ix_datasets_type_record', 'datasets', ['dataset_type', 'record_id'])
    op.create_index('ix_datasets_format_record', 'datasets', ['format', 'record_id'])
    for statement in ddl(op.get_bind().dialect.name, up=True):
        op.execute(statement)


def downgrade() -> None:
    for statement in ddl(op.get_bind().dialect.name, up=False):
        op.execute(statement)
    op.drop_index('ix_datasets_format_record', table_name='datasets')
    op.drop_index('ix_datasets_type_record', table_name='datasets')
    op.drop_index('ix_records_start_id', table_name='records')
    op.drop_index(op.f('ix_api_tokens_person_id'), table_name='api_tokens')
    op.drop_table('api_tokens')
