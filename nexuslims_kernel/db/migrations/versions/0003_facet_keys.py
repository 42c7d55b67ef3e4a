"""Facet counts group records by a combination key instead of joining per-record combination rows.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_facets = sa.table("record_facets", sa.column("record_id", sa.Integer), sa.column("kind", sa.String), sa.column("value", sa.Text))
_records = sa.table("records", sa.column("id", sa.Integer))


def _values(bind) -> dict:
    values: dict = defaultdict(lambda: defaultdict(set))
    for record_id, kind, value in bind.execute(sa.select(_facets.c.record_id, _facets.c.kind, _facets.c.value)
                                               .where(_facets.c.kind != "combo")):
        values[record_id][kind].add(value)
    return values


def upgrade() -> None:
    from nexuslims_kernel.db import record_facets

    op.add_column('records', sa.Column('facet_key', sa.BigInteger(), nullable=True))
    op.create_table('facet_combos',
    sa.Column('key', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_facet_combos'))
    )
    op.create_index('ix_records_facets', 'records', ['instrument_id', 'owner_id', 'facet_key'])
    bind = op.get_bind()
    bind.execute(sa.delete(_facets).where(_facets.c.kind == "combo"))
    record_facets.fill_keys(bind, _values(bind), bind.scalars(sa.select(_records.c.id)).all())


def downgrade() -> None:
    from nexuslims_kernel.db.record_facets import COMBO, encode_combo

    bind = op.get_bind()
    rows = [{"record_id": rid, "kind": COMBO, "value": encode_combo(by_kind)} for rid, by_kind in _values(bind).items()]
    if rows:
        bind.execute(sa.insert(_facets), rows)
    op.drop_index('ix_records_facets', table_name='records')
    op.drop_table('facet_combos')
    # Plain ALTER (SQLite >= 3.35): a batch copy of records would drop its full-text triggers.
    op.drop_column('records', 'facet_key')
