"""The append-only audit log.

Rows are never updated or deleted: the ORM refuses it, and triggers created
with the table refuse it in the database too (SQLite and PostgreSQL).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import DDL, ForeignKey, String, event
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, IdMixin, utcnow


class AppendOnlyError(RuntimeError):
    pass


class AuditLog(IdMixin, Base):
    __tablename__ = "audit_log"

    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_type: Mapped[str] = mapped_column(String(20))  # staff, resident, system, operator
    actor_id: Mapped[Optional[int]] = mapped_column(BigId)
    community_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    action: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[Optional[str]] = mapped_column(String(40))
    entity_id: Mapped[Optional[int]] = mapped_column(BigId)
    detail: Mapped[Optional[dict[str, Any]]]


@event.listens_for(AuditLog, "before_update")
def _no_update(mapper, connection, target):
    raise AppendOnlyError("audit_log is append-only")


@event.listens_for(AuditLog, "before_delete")
def _no_delete(mapper, connection, target):
    raise AppendOnlyError("audit_log is append-only")


SQLITE_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS {t}_no_update BEFORE UPDATE ON {t} "
    "BEGIN SELECT RAISE(ABORT, '{t} is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS {t}_no_delete BEFORE DELETE ON {t} "
    "BEGIN SELECT RAISE(ABORT, '{t} is append-only'); END",
]
POSTGRES_TRIGGERS = [
    "CREATE OR REPLACE FUNCTION linli_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
    "FOR EACH ROW EXECUTE FUNCTION linli_append_only()",
]


def append_only_statements(dialect: str, table: str) -> list[str]:
    """DDL that makes ``table`` append-only; used by create_all and migrations."""
    templates = POSTGRES_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS if dialect == "sqlite" else []
    return [t.format(t=table) for t in templates]


APPEND_ONLY_TABLES: list[str] = []


def make_append_only(table) -> None:
    """Mark ``table`` append-only: triggers on create_all and in the initial migration."""
    APPEND_ONLY_TABLES.append(table.name)
    for dialect in ("sqlite", "postgresql"):
        for statement in append_only_statements(dialect, table.name):
            # DDL() treats "%" as a substitution marker.
            event.listen(table, "after_create", DDL(statement.replace("%", "%%")).execute_if(dialect=dialect))


make_append_only(AuditLog.__table__)


def refuse_orm_changes(model) -> None:
    """The ORM refuses to update or delete rows of ``model`` too, before the database triggers would."""
    def refuse(mapper, connection, target):
        raise AppendOnlyError(f"{target.__tablename__} is append-only")

    event.listen(model, "before_update", refuse)
    event.listen(model, "before_delete", refuse)


def create_append_only_triggers(op) -> None:
    """Called by migrations after creating tables."""
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY_TABLES:
        for statement in append_only_statements(dialect, table):
            op.execute(statement)
