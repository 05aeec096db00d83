"""outbox attempts: sending/unknown states, the attempt that holds a row and when to check it

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 01:50:00
"""
from alembic import op
import sqlalchemy as sa
import app.models  # registers every table, including the append-only ones
import app.models.base


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

UNSETTLED = "status IN ('queued', 'sending', 'unknown')"


def upgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempt_id', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('check_at', app.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_message_unsettled', ['status', 'check_at'], unique=False,
                              postgresql_where=sa.text(UNSETTLED), sqlite_where=sa.text(UNSETTLED))
    # Rows queued before this revision: the reconciler looks at them at once.
    op.execute("UPDATE message SET check_at = received_at WHERE direction = 'out' AND status = 'queued'")


def downgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index('ix_message_unsettled')
        batch_op.drop_column('check_at')
        batch_op.drop_column('attempt_id')
