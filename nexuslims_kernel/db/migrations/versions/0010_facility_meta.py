"""``facility_meta``: facts about the whole database; the demo marks the facility it made (key ``demo``).

A data dir the demo made before this revision is recognised once, here, by what only the
demo creates together: exactly its two instruments, each with its store under
``demo-store/<name>``. Everything else stays unmarked, so ``nxhub demo`` refuses it.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from nexuslims_kernel.db.base import JSONType, UTCDateTime

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

DEMO_INSTRUMENTS = {"Demo-TEM", "Demo-SEM"}


def upgrade() -> None:
    meta = op.create_table(
        'facility_meta',
        sa.Column('key', sa.String(length=100), nullable=False),
        sa.Column('value', JSONType, nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_facility_meta')),
    )
    rows = op.get_bind().execute(sa.text("SELECT name, filestore_root FROM instruments")).all()
    made_by_demo = {name for name, _ in rows} == DEMO_INSTRUMENTS and all(
        (root or "").replace("\\", "/").endswith(f"demo-store/{name}") for name, root in rows)
    if made_by_demo:
        op.bulk_insert(meta, [{"key": "demo", "value": {"by": "nxhub demo", "recognised_by": "0010"},
                               "updated_at": dt.datetime.now(dt.UTC)}])


def downgrade() -> None:
    op.drop_table('facility_meta')
