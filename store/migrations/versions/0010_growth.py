"""a whole service on one database (issue 20): the sweep's bookmark on each deadline with a
partial index over open deadlines in place of (state, due), and the bank holidays the
deadlines were worked out with, so a holiday change recomputes only the children it touches

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('deadlines') as batch:
        batch.add_column(sa.Column('next_notice_at', sa.DateTime(timezone=True), nullable=True))
    op.drop_index('ix_deadlines_state_due', table_name='deadlines')
    op.create_index('ix_deadlines_open_notice', 'deadlines', ['next_notice_at', 'due'], unique=False,
                    sqlite_where=sa.text("state = 'open'"), postgresql_where=sa.text("state = 'open'"))
    with op.batch_alter_table('deadline_basis') as batch:
        batch.add_column(sa.Column('rules_fingerprint', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('bank_holidays', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('deadline_basis') as batch:
        batch.drop_column('bank_holidays')
        batch.drop_column('rules_fingerprint')
    op.drop_index('ix_deadlines_open_notice', table_name='deadlines')
    op.create_index('ix_deadlines_state_due', 'deadlines', ['state', 'due'], unique=False)
    with op.batch_alter_table('deadlines') as batch:
        batch.drop_column('next_notice_at')
