"""Full-text search on records (FTS5 / tsvector), personal API tokens, list indexes, record facets.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from nexuslims_kernel.db import record_facets
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
    # Keyset pagination by start; the public branch of the ACL predicate.
    op.create_index('ix_records_start_id', 'records', ['start', 'id'])
    op.create_index('ix_records_public', 'records', ['is_public', 'embargo_until'])
    # Distinct dataset types/formats per record: facets and filters scan records, not datasets.
    op.create_table('record_facets',
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_record_facets_record_id_records'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('record_id', 'kind', 'value', name=op.f('pk_record_facets'))
    )
    op.create_index('ix_record_facets_kind_value', 'record_facets', ['kind', 'value', 'record_id'])
    # Per-kind rows only: the combination moved to records.facet_key (0003), which fills it.
    record_facets.fill_rows(op.get_bind(), None)
    for statement in ddl(op.get_bind().dialect.name, up=True):
        op.execute(statement)


def downgrade() -> None:
    for statement in ddl(op.get_bind().dialect.name, up=False):
        op.execute(statement)
    op.drop_index('ix_record_facets_kind_value', table_name='record_facets')
    op.drop_table('record_facets')
    op.drop_index('ix_records_public', table_name='records')
    op.drop_index('ix_records_start_id', table_name='records')
    op.drop_index(op.f('ix_api_tokens_person_id'), table_name='api_tokens')
    op.drop_table('api_tokens')
