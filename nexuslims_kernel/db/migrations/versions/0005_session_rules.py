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
    sqlite = op.get_bind().dialect.name == 'sqlite'
    # Plain ADD COLUMNs: a batch copy of `sessions` would cascade-delete its records and events on SQLite.
    if sqlite:
        op.execute('ALTER TABLE sessions ADD COLUMN group_id INTEGER REFERENCES groups (id) ON DELETE SET NULL')
    else:
        op.add_column('sessions', sa.Column('group_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_sessions_group_id_groups', 'sessions', 'groups', ['group_id'], ['id'], ondelete='SET NULL')
    op.add_column('sessions', sa.Column('length_approved', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('sessions', sa.Column('share_files', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index('ix_datasets_file', 'datasets', ['file_id'])
    if sqlite:  # PostgreSQL sequences never reuse ids already; nothing references datasets, so the copy is safe
        with op.batch_alter_table('datasets', recreate='always', table_kwargs={'sqlite_autoincrement': True}):
            pass


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        with op.batch_alter_table('datasets', recreate='always', table_kwargs={'sqlite_autoincrement': False}):
            pass
    op.drop_index('ix_datasets_file', table_name='datasets')
    op.drop_column('sessions', 'share_files')
    op.drop_column('sessions', 'length_approved')
    if not sqlite:
        op.drop_constraint('fk_sessions_group_id_groups', 'sessions', type_='foreignkey')
    op.drop_column('sessions', 'group_id')
