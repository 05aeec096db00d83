"""the dashboard's rollup: request_day, clock_day, rollup_day, rollup_state; reply_clock.updated_at

Revision ID: 0008
Revises: 0007

docs/scaling.md, "The dashboard's 三率 over a street's year". The tables start empty: an operator fills
the history with ``linli reports rollup --from … --to …``; until then the dashboard computes live.
``reply_clock.updated_at`` is added without a default (instant on a big table): NULL means "not
changed since this migration", which the first rebuild covers.
"""
from alembic import op
import sqlalchemy as sa

from app.models.base import UTCDateTime

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
REQUEST_COUNTS = ("total", "merged", "rejected", "responded", "resolved", "on_time", "escalated", "open",
                  "satisfied", "basically", "unsatisfied", "level_grid", "level_community", "level_street",
                  "level_department")


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False)


def upgrade() -> None:
    op.create_table(
        'request_day',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('community_id', BigId, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('grid_id', BigId, nullable=True),
        sa.Column('category', sa.String(length=20), nullable=False),
        *(_count(name) for name in REQUEST_COUNTS),
        sa.ForeignKeyConstraint(['community_id'], ['community.id'], name='fk_request_day_community_id_community'),
        sa.PrimaryKeyConstraint('id', name='pk_request_day'))
    op.create_index('ix_request_day_community_day', 'request_day', ['community_id', 'day'])
    op.create_table(
        'clock_day',
        sa.Column('id', BigId, autoincrement=True, nullable=False),
        sa.Column('community_id', BigId, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('grid_id', BigId, nullable=True),
        sa.Column('staff_id', BigId, nullable=True),
        *(_count(name) for name in ("clocks", "replied", "within", "unanswered")),
        sa.Column('reply_seconds', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['community_id'], ['community.id'], name='fk_clock_day_community_id_community'),
        sa.PrimaryKeyConstraint('id', name='pk_clock_day'))
    op.create_index('ix_clock_day_community_day', 'clock_day', ['community_id', 'day'])
    op.create_table(
        'rollup_day',
        sa.Column('community_id', BigId, nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('built_at', UTCDateTime(), nullable=False),
        sa.Column('reply_sla_seconds', sa.Integer(), nullable=False),
        sa.Column('settles_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['community_id'], ['community.id'], name='fk_rollup_day_community_id_community'),
        sa.PrimaryKeyConstraint('community_id', 'day', name='pk_rollup_day'))
    op.create_table(
        'rollup_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('generation', sa.Integer(), nullable=False),
        sa.Column('valid_at', UTCDateTime(), nullable=True),
        sa.Column('built_through', sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint('id', name='pk_rollup_state'))
    op.add_column('reply_clock', sa.Column('updated_at', UTCDateTime(), nullable=True))
    op.create_index('ix_reply_clock_updated', 'reply_clock', ['updated_at'])
    op.create_index('ix_service_request_updated', 'service_request', ['updated_at'])


def downgrade() -> None:
    op.drop_index('ix_service_request_updated', table_name='service_request')
    op.drop_index('ix_reply_clock_updated', table_name='reply_clock')
    with op.batch_alter_table('reply_clock') as batch:
        batch.drop_column('updated_at')
    op.drop_table('rollup_state')
    op.drop_table('rollup_day')
    op.drop_index('ix_clock_day_community_day', table_name='clock_day')
    op.drop_table('clock_day')
    op.drop_index('ix_request_day_community_day', table_name='request_day')
    op.drop_table('request_day')
