"""pending updates: messages the bot asked about, kept until answered

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pending_updates',
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('message_ts', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('posted_by', sa.String(length=64), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('reading', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'message_ts')
    )


def downgrade() -> None:
    op.drop_table('pending_updates')
