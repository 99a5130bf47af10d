"""a full recompute at a service's size (issue 20, third part): deadlines are worked out
from the events, and written only by a transaction that holds their child's row locked,
so the foreign key from deadlines to children checked nothing that could fail, at a cost
(PostgreSQL checks it row by row: half the time of writing 560,000 deadlines); and each
child keeps a digest of the deadlines last written, so a recompute that comes out the
same (most children, after a rules or bank holiday change) writes nothing

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

# SQLite's copy of the table has the key unnamed: batch mode finds it by this convention.
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def upgrade() -> None:
    with op.batch_alter_table('children') as batch:
        batch.add_column(sa.Column('deadlines_digest', sa.String(length=32), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint('deadlines_child_fkey', 'deadlines', type_='foreignkey')
        return
    with op.batch_alter_table('deadlines', naming_convention=NAMING) as batch:
        batch.drop_constraint('fk_deadlines_child_children', type_='foreignkey')


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_foreign_key('deadlines_child_fkey', 'deadlines', 'children', ['child'], ['number'])
    else:
        with op.batch_alter_table('deadlines', naming_convention=NAMING) as batch:
            batch.create_foreign_key('fk_deadlines_child_children', 'children', ['child'], ['number'])
    with op.batch_alter_table('children') as batch:
        batch.drop_column('deadlines_digest')
