"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}
"""
from alembic import op
import sqlalchemy as sa
import app.models  # registers every table, including the append-only ones
import app.models.base
${imports if imports else ""}

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}
% if not down_revision:
    # Append-only tables (audit log, timelines) refuse UPDATE/DELETE in the database too.
    app.models.audit.create_append_only_triggers(op)
% endif


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
