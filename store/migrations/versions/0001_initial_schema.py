"""initial schema

Revision ID: 0001
Revises: 
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbound_messages',
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('ts', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('channel', 'ts')
    )
    op.create_table('outgoing_messages',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('recipient', sa.String(length=64), nullable=False),
    sa.Column('deadline_id', sa.String(length=200), nullable=True),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('slack_ts', sa.String(length=64), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('outgoing_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outgoing_state', ['state'], unique=False)

    op.create_table('units',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('flexible_assessment', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel')
    )
    op.create_table('children',
    sa.Column('number', sa.String(length=20), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('lead_practitioner', sa.String(length=64), nullable=True),
    sa.Column('flexible_assessment', sa.Boolean(), nullable=False),
    sa.Column('events_version', sa.Integer(), nullable=False),
    sa.Column('deadlines_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('number')
    )
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.create_index('ix_children_unit', ['unit_id'], unique=False)

    op.create_table('unit_members',
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('unit_id', 'user_id', 'role')
    )
    with op.batch_alter_table('unit_members', schema=None) as batch_op:
        batch_op.create_index('ix_unit_members_user', ['user_id'], unique=False)

    op.create_table('deadlines',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('child', sa.String(length=20), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('rule', sa.String(length=64), nullable=False),
    sa.Column('standard', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=120), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('timescale', sa.String(length=64), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('hours_based', sa.Boolean(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('responsible', sa.JSON(), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('met_event_id', sa.String(length=64), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('override', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['child'], ['children.number'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.create_index('ix_deadlines_child', ['child'], unique=False)
        batch_op.create_index('ix_deadlines_unit_state_due', ['unit_id', 'state', 'due'], unique=False)

    op.create_table('decisions',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('child', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=120), nullable=False),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('by', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('message_ts', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['child'], ['children.number'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index('ix_decisions_child', ['child'], unique=False)

    op.create_table('events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('child', sa.String(length=20), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('time', sa.Time(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('posted_by', sa.String(length=64), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('message_ts', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('supersedes', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['child'], ['children.number'], ),
    sa.ForeignKeyConstraint(['supersedes'], ['events.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'message_ts', 'seq', name='uq_events_message')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_child', ['child'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_child')

    op.drop_table('events')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index('ix_decisions_child')

    op.drop_table('decisions')
    with op.batch_alter_table('deadlines', schema=None) as batch_op:
        batch_op.drop_index('ix_deadlines_unit_state_due')
        batch_op.drop_index('ix_deadlines_child')

    op.drop_table('deadlines')
    with op.batch_alter_table('unit_members', schema=None) as batch_op:
        batch_op.drop_index('ix_unit_members_user')

    op.drop_table('unit_members')
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_index('ix_children_unit')

    op.drop_table('children')
    op.drop_table('units')
    with op.batch_alter_table('outgoing_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outgoing_state')

    op.drop_table('outgoing_messages')
    op.drop_table('inbound_messages')
