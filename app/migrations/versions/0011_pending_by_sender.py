"""pending inbound messages by sender: ix_message_pending_sender

Revision ID: 0011
Revises: 0010

A report answered at once in the callback (app/handlers/conversation/express.py) asks, in its one
SELECT, whether the sender has a report still pending; so does the router for a sender it is about to
make a resident. Partial (only pending rows), as ix_message_pending: small among millions of messages.
"""
from alembic import op
import sqlalchemy as sa

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

PENDING = "pending_at IS NOT NULL"


def upgrade() -> None:
    op.create_index('ix_message_pending_sender', 'message', ['channel', 'sender_id'],
                    postgresql_where=sa.text(PENDING), sqlite_where=sa.text(PENDING))


def downgrade() -> None:
    op.drop_index('ix_message_pending_sender', table_name='message')
