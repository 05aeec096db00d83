"""Writing to the append-only audit log (in the caller's transaction)."""
from __future__ import annotations

from typing import Any

from app.clock import now
from app.extensions import db
from app.models import AuditLog


def record(actor_type: str, actor_id: int | None, action: str, entity: Any = None, *,
           community_id: int | None = None, detail: dict[str, Any] | None = None) -> AuditLog:
    """Add an audit entry; the caller commits. ``entity`` is a model row (its table and id are recorded)."""
    row = AuditLog(at=now(), actor_type=actor_type, actor_id=actor_id, action=action,
                   entity_type=entity.__tablename__ if entity is not None else None,
                   entity_id=getattr(entity, "id", None) if entity is not None else None,
                   community_id=community_id, detail=detail)
    db.session.add(row)
    return row
