"""indexes for /healthz/full and /metrics (docs/reliability.md, "Health checks and metrics")

Revision ID: 0006
Revises: 0005

Outbound messages given up on or refused (a partial index: failures are rare, so it stays small
among millions of sent rows), and an alert's outbound messages by message id (the oldest
due-but-unsent alert joins them from the outbox's unsettled rows).
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

FAILED = "status IN ('failed', 'rejected')"


def upgrade() -> None:
    op.create_index('ix_message_send_failed', 'message', ['status'],
                    postgresql_where=sa.text(FAILED), sqlite_where=sa.text(FAILED))
    op.create_index('ix_alert_recipient_message_id', 'alert_recipient', ['message_id'])


def downgrade() -> None:
    op.drop_index('ix_alert_recipient_message_id', table_name='alert_recipient')
    op.drop_index('ix_message_send_failed', table_name='message')
