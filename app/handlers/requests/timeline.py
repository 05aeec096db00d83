"""The append-only timeline: every state change of a request is an event with who, when and what.

``transition`` is the only way a status changes; ``record_event`` the only way an
event is written. Both leave committing to the caller.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from app.clock import now as clock_now
from app.errors import Conflict
from app.extensions import db
from app.handlers.requests.rules import ACTION_LABELS, ACTOR_RESIDENT, ACTOR_STAFF, ACTOR_SYSTEM
from app.models import Resident, Staff
from app.models.requests import STATUS_LABELS, RequestEvent, ServiceRequest


def actor_of(actor: Any) -> tuple[str, int | None]:
    if isinstance(actor, Staff):
        return ACTOR_STAFF, actor.id
    if isinstance(actor, Resident):
        return ACTOR_RESIDENT, actor.id
    return ACTOR_SYSTEM, None


def record_event(request: ServiceRequest, actor: Any, kind: str, *, from_status: str | None = None,
                 to_status: str | None = None, detail: dict | None = None,
                 at: datetime | None = None) -> RequestEvent:
    actor_type, actor_id = actor_of(actor)
    row = RequestEvent(request_id=request.id, at=at or clock_now(), actor_type=actor_type, actor_id=actor_id,
                       kind=kind, from_status=from_status, to_status=to_status, detail=detail or None)
    db.session.add(row)
    request.updated_at = row.at
    return row


def require_status(request: ServiceRequest, action: str, allowed_from: Iterable[str]) -> None:
    """Refuse an action the current status does not allow, with a clear Chinese message (409)."""
    if request.status not in tuple(allowed_from):
        raise Conflict(
            f"诉求{request.code}当前状态为「{STATUS_LABELS.get(request.status, request.status)}」，"
            f"不能{ACTION_LABELS.get(action, action)} (invalid transition {request.status} → {action})",
            code="invalid_transition", extra={"status": request.status})


def transition(request: ServiceRequest, actor: Any, action: str, kind: str, to_status: str,
               allowed_from: Iterable[str], detail: dict | None = None) -> RequestEvent:
    """Change the status and record it on the timeline, or refuse (409)."""
    require_status(request, action, allowed_from)
    from_status = request.status
    request.status = to_status
    return record_event(request, actor, kind, from_status=from_status, to_status=to_status, detail=detail)
