"""Session rules: the session's own group choice, an admin's approvals, and which record holds a file.

``sessions.group_id`` is where a record's group comes from when its project names
none; ``length_approved`` lets an over-long session out of NEEDS_REVIEW;
``share_files`` lets a build take files another record already holds;
``ix_datasets_file`` finds the record that holds a file; on SQLite the datasets
table gets AUTOINCREMENT so a deleted dataset's id (a saved link) is never
given to another file.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sessions') as batch:
        batch.add_column(sa.Column('group_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('length_approved', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('share_files', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_foreign_key('fk_sessions_group_id_groups', 'groups', ['group_id'], ['id'], ondelete='SET NULL')
    op.create_index('ix_datasets_file', 'datasets', ['file_id'])
    if op.get_bind().dialect.name == 'sqlite':  # PostgreSQL sequences never reuse ids already
        with op.batch_alter_table('datasets', recreate='always', table_kwargs={'sqlite_autoincrement': True}):
            pass


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('datasets', recreate='always', table_kwargs={'sqlite_autoincrement': False}):
            pass
    op.drop_index('ix_datasets_file', table_name='datasets')
    with op.batch_alter_table('sessions') as batch:
        batch.drop_constraint('fk_sessions_group_id_groups', type_='foreignkey')
        batch.drop_column('share_files')
        batch.drop_column('length_approved')
        batch.drop_column('group_id')
