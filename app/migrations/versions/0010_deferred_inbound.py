"""deferred inbound handling: message.pending_at, message.claimed_at (and in message_archive)

Revision ID: 0010
Revises: 0009

docs/reliability.md §11. A new report on /wechat/mp is answered at once and finished by a worker;
``pending_at`` says a worker still owes that (partial index: only such rows, so the sweep's query stays
small among millions of messages), ``claimed_at`` is the lease of whoever is finishing it. Both are added
without a default (instant on a big table); the archive keeps every column of ``message``.
"""
from alembic import op
import sqlalchemy as sa

from app.models.base import UTCDateTime

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

PENDING = "pending_at IS NOT NULL"


def upgrade() -> None:
    for table in ("message", "message_archive"):
        op.add_column(table, sa.Column('pending_at', UTCDateTime(), nullable=True))
        op.add_column(table, sa.Column('claimed_at', UTCDateTime(), nullable=True))
    op.create_index('ix_message_pending', 'message', ['pending_at'],
                    postgresql_where=sa.text(PENDING), sqlite_where=sa.text(PENDING))


def downgrade() -> None:
    op.drop_index('ix_message_pending', table_name='message')
    for table in ("message_archive", "message"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('claimed_at')
            batch.drop_column('pending_at')
