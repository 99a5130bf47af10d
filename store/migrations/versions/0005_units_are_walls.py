"""units are walls: transfers between units, the access log, who answered, one decision per message

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
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answered_for', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('answer_ts', sa.String(length=64), nullable=True))
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_decisions_message', ['channel', 'message_ts'])
    op.create_table(
        'transfers',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('child', sa.String(length=20), nullable=False),
        sa.Column('from_unit', sa.String(length=64), nullable=False),
        sa.Column('to_unit', sa.String(length=64), nullable=False),
        sa.Column('requested_by', sa.String(length=64), nullable=False),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('channel', sa.String(length=64), nullable=False),
        sa.Column('message_ts', sa.String(length=64), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('decided_by', sa.String(length=64), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['child'], ['children.number']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('channel', 'message_ts', name='uq_transfers_message'),
    )
    op.create_index('ix_transfers_child', 'transfers', ['child'], unique=False)
    op.create_table(
        'access_log',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('user_id', sa.String(length=64), nullable=False),
        sa.Column('via', sa.String(length=16), nullable=False),
        sa.Column('units', sa.JSON(), nullable=False),
        sa.Column('child', sa.String(length=20), nullable=True),
        sa.Column('children', sa.Integer(), nullable=False),
        sa.Column('shown', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_access_log_at', 'access_log', ['at'], unique=False)
    op.create_index('ix_access_log_user', 'access_log', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_access_log_user', table_name='access_log')
    op.drop_index('ix_access_log_at', table_name='access_log')
    op.drop_table('access_log')
    op.drop_index('ix_transfers_child', table_name='transfers')
    op.drop_table('transfers')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_constraint('uq_decisions_message', type_='unique')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('answer_ts')
        batch_op.drop_column('answered_for')
