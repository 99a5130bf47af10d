"""the sweep at any caseload (issue 20, second part): each child's plans in force stored
with its deadlines (the weekly agenda reads them instead of replaying every history), the
open deadlines indexed in the order the sweep reads them, and the words kept for a while
indexed where they are still held, so forgetting them does not scan whole tables; a
ledger row's payload, once gone, is SQL NULL (it was JSON 'null', which IS NOT NULL)

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('children') as batch:
        batch.add_column(sa.Column('in_force', sa.JSON(), nullable=True))
    op.drop_index('ix_deadlines_open_notice', table_name='deadlines')
    op.create_index('ix_deadlines_open_due', 'deadlines', ['due', 'id', 'next_notice_at'], unique=False,
                    sqlite_where=sa.text("state = 'open'"), postgresql_where=sa.text("state = 'open'"))
    op.create_index('ix_events_words', 'events', ['posted_at'], unique=False,
                    sqlite_where=sa.text("text <> ''"), postgresql_where=sa.text("text <> ''"))
    cast = "payload::text" if op.get_bind().dialect.name == "postgresql" else "payload"
    op.execute(f"UPDATE outgoing_messages SET payload = NULL WHERE {cast} = 'null'")
    op.create_index('ix_outgoing_payload', 'outgoing_messages', ['claimed_at'], unique=False,
                    sqlite_where=sa.text("payload IS NOT NULL"), postgresql_where=sa.text("payload IS NOT NULL"))


def downgrade() -> None:
    op.drop_index('ix_outgoing_payload', table_name='outgoing_messages')
    op.drop_index('ix_events_words', table_name='events')
    op.drop_index('ix_deadlines_open_due', table_name='deadlines')
    op.create_index('ix_deadlines_open_notice', 'deadlines', ['next_notice_at', 'due'], unique=False,
                    sqlite_where=sa.text("state = 'open'"), postgresql_where=sa.text("state = 'open'"))
    with op.batch_alter_table('children') as batch:
        batch.drop_column('in_force')
