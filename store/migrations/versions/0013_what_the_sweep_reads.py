"""a quiet sweep that costs what is due, not the backlog (issue 20): the open deadlines that
were overdue when they were imported get an index of their own, by when they were imported,
so the sweep's pass over those imported in the last three weeks no longer reads every open
deadline due before its window (a service's whole overdue backlog) to find them; and the
events' index by child holds when each was posted, so the weekly agenda reads each child's
last update and the week's updates from the index

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

AT_IMPORT = "state = 'open' AND known_from IS NOT NULL AND due_at < known_from"


def upgrade() -> None:
    op.drop_index('ix_events_child', table_name='events')
    op.create_index('ix_events_child', 'events', ['child', 'posted_at'], unique=False)
    op.create_index('ix_deadlines_at_import', 'deadlines', ['known_from', 'id', 'next_notice_at'], unique=False,
                    sqlite_where=sa.text(AT_IMPORT), postgresql_where=sa.text(AT_IMPORT))


def downgrade() -> None:
    op.drop_index('ix_deadlines_at_import', table_name='deadlines')
    op.drop_index('ix_events_child', table_name='events')
    op.create_index('ix_events_child', 'events', ['child'], unique=False)
