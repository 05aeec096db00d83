"""indexes for a city on one PostgreSQL (docs/scaling.md)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 02:30:00

A community's requests by creation time (the request list newest first, every statistic of a
period), by resolution time (the board's recently resolved, 考核), and its open requests by
deadline (a partial index: only open rows are in it); the escalations of the timeline.
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

OPEN = "status IN ('received', 'acknowledged', 'dispatched', 'in_progress')"


def upgrade() -> None:
    op.create_index('ix_service_request_community_created', 'service_request', ['community_id', 'created_at', 'id'])
    op.create_index('ix_service_request_community_resolved', 'service_request', ['community_id', 'resolved_at'])
    op.create_index('ix_service_request_open_due', 'service_request', ['community_id', 'due_at', 'id'],
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
    op.create_index('ix_request_event_escalated', 'request_event', ['request_id'],
                    postgresql_where=sa.text("kind = 'escalated'"), sqlite_where=sa.text("kind = 'escalated'"))


def downgrade() -> None:
    op.drop_index('ix_request_event_escalated', table_name='request_event')
    op.drop_index('ix_service_request_open_due', table_name='service_request')
    op.drop_index('ix_service_request_community_resolved', table_name='service_request')
    op.drop_index('ix_service_request_community_created', table_name='service_request')
