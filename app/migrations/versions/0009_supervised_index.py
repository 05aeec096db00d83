"""the dashboard's 督办 count by an index of supervised requests only

Revision ID: 0009
Revises: 0008

docs/scaling.md: the count of a street's year read every request of the street (8,600 heap pages on
the city bench) to find the few supervised ones; a partial index holds only those.
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

SUPERVISED = "supervised_at IS NOT NULL"


def upgrade() -> None:
    op.create_index('ix_service_request_community_supervised', 'service_request', ['community_id', 'supervised_at'],
                    postgresql_where=sa.text(SUPERVISED), sqlite_where=sa.text(SUPERVISED))


def downgrade() -> None:
    op.drop_index('ix_service_request_community_supervised', table_name='service_request')
