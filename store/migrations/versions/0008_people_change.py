"""people change: a child's lead practitioner recorded with who and when, and cover for leave

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'lead_changes',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('child', sa.String(length=20), nullable=False),
        sa.Column('lead', sa.String(length=64), nullable=False),
        sa.Column('was', sa.String(length=64), nullable=True),
        sa.Column('by', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('channel', sa.String(length=64), nullable=False),
        sa.Column('message_ts', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['child'], ['children.number']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('channel', 'message_ts', 'child', name='uq_lead_changes_message'),
    )
    op.create_index('ix_lead_changes_child', 'lead_changes', ['child'], unique=False)
    op.create_table(
        'covers',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('who', sa.String(length=64), nullable=False),
        sa.Column('cover', sa.String(length=64), nullable=True),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('recorded_by', sa.String(length=64), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('channel', sa.String(length=64), nullable=True),
        sa.Column('message_ts', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('channel', 'message_ts', name='uq_covers_message'),
    )
    op.create_index('ix_covers_days', 'covers', ['first_day', 'last_day'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_covers_days', table_name='covers')
    op.drop_table('covers')
    op.drop_index('ix_lead_changes_child', table_name='lead_changes')
    op.drop_table('lead_changes')
