"""each event says which Slack message it is about (edits, answers and undos are recorded under keys of
their own, and are still found from that message)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin_ts', sa.String(length=64), nullable=True))
    op.execute("UPDATE events SET origin_ts = message_ts")
    op.create_index('ix_events_origin', 'events', ['channel', 'origin_ts'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_events_origin', table_name='events')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('origin_ts')
