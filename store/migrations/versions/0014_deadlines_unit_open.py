"""a full recompute at a service's size (issue 20, fifth part): the deadlines of a unit are
read open only, in due order (every list, digest, agenda and view), so they are indexed
open only; the index of every row by (unit, state, due) cost a third of PostgreSQL's time
writing a service's deadlines, for the met and cancelled two thirds that no list reads by
unit (the timeliness report reads them by child)

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_deadlines_unit_open', 'deadlines', ['unit_id', 'due'], unique=False,
                    sqlite_where=sa.text("state = 'open'"), postgresql_where=sa.text("state = 'open'"))
    op.drop_index('ix_deadlines_unit_state_due', table_name='deadlines')


def downgrade() -> None:
    op.create_index('ix_deadlines_unit_state_due', 'deadlines', ['unit_id', 'state', 'due'], unique=False)
    op.drop_index('ix_deadlines_unit_open', table_name='deadlines')
