"""message_archive, and the indexes `linli messages archive` needs (docs/scaling.md)

Revision ID: 0007
Revises: 0006

``message_archive`` holds old messages moved out of ``message`` (same columns, plus archived_at;
primary key only). ``ix_message_received`` orders messages by age for the archive's batches; the two
partial indexes make "does anything still point at this message?" an index probe, for the archive's
batches and for PostgreSQL's foreign-key check when a message row is deleted.

On a big ``message`` table the index builds take a while and hold writes to it (10 million rows:
see docs/scaling.md for the time measured); run the upgrade in a quiet hour.
"""
from alembic import op
import sqlalchemy as sa
import app.models.base

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
WHEN = app.models.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'message_archive',
        sa.Column('direction', sa.String(length=3), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('dedupe_key', sa.String(length=191), nullable=False),
        sa.Column('channel_msg_id', sa.String(length=128), nullable=True),
        sa.Column('chat_id', sa.String(length=128), nullable=True),
        sa.Column('group_id', ID, nullable=True),
        sa.Column('community_id', ID, nullable=True),
        sa.Column('sender_id', sa.String(length=128), nullable=True),
        sa.Column('sender_name', sa.String(length=100), nullable=True),
        sa.Column('recipient_id', sa.String(length=128), nullable=True),
        sa.Column('resident_id', ID, nullable=True),
        sa.Column('staff_id', ID, nullable=True),
        sa.Column('is_staff', sa.Boolean(), nullable=False),
        sa.Column('msg_type', sa.String(length=30), nullable=False),
        sa.Column('text', sa.Text(), nullable=True),
        sa.Column('media', sa.JSON(), nullable=True),
        sa.Column('sent_at', WHEN, nullable=True),
        sa.Column('received_at', WHEN, nullable=False),
        sa.Column('in_reply_to_id', ID, nullable=True),
        sa.Column('handling', sa.JSON(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('error_code', sa.String(length=30), nullable=True),
        sa.Column('error', sa.String(length=500), nullable=True),
        sa.Column('delivered_at', WHEN, nullable=True),
        sa.Column('attempt_id', sa.String(length=32), nullable=True),
        sa.Column('check_at', WHEN, nullable=True),
        sa.Column('id', ID, autoincrement=False, nullable=False),
        sa.Column('archived_at', WHEN, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message_archive')),
    )
    op.create_index('ix_message_received', 'message', ['received_at', 'id'])
    op.create_index('ix_message_in_reply_to', 'message', ['in_reply_to_id'],
                    postgresql_where=sa.text('in_reply_to_id IS NOT NULL'),
                    sqlite_where=sa.text('in_reply_to_id IS NOT NULL'))
    op.create_index('ix_reply_clock_stop_message', 'reply_clock', ['stop_message_id'],
                    postgresql_where=sa.text('stop_message_id IS NOT NULL'),
                    sqlite_where=sa.text('stop_message_id IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_reply_clock_stop_message', table_name='reply_clock')
    op.drop_index('ix_message_in_reply_to', table_name='message')
    op.drop_index('ix_message_received', table_name='message')
    op.drop_table('message_archive')
