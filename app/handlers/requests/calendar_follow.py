"""Deadlines follow the calendar: a changed holiday or make-up day moves the open requests it affects.

When a notice is imported or an override changes (app/handlers/calendar_sync.py),
every open request whose deadline is counted in working days is counted again
with the same number of working days from the same start; those that move get a
``deadline_changed`` event on their timeline, a re-scheduled 督办 job and a
message to their assignee.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.handlers.alerts import raise_alert
from app.handlers.requests.notify import summary_line
from app.handlers.requests.rules import deadline_spec
from app.handlers.requests.supervision import schedule_overdue_check
from app.handlers.requests.timeline import record_event
from app.localtime import format_local, iso
from app.models import Staff
from app.models.alerts import AlertKind
from app.models.requests import OPEN_STATUSES, ServiceRequest
from app.workcal import WorkCalendar, moved_deadline

ALERT_KIND = AlertKind.DEADLINE.value


@dataclass(frozen=True)
class DeadlineMove:
    id: int
    code: str
    old: datetime
    new: datetime


def follow_calendar(old: WorkCalendar, new: WorkCalendar) -> list[DeadlineMove]:
    """Recount the working-day deadlines of open requests; returns those that moved (committed)."""
    day_classes = [urgency for urgency, (_, unit) in deadline_spec().items() if unit == "d"]
    rows = db.session.scalars(select(ServiceRequest).where(
        ServiceRequest.status.in_(OPEN_STATUSES), ServiceRequest.urgency.in_(day_classes))
        .order_by(ServiceRequest.id)).all()
    moved: list[tuple[ServiceRequest, DeadlineMove]] = []
    for request in rows:
        due = moved_deadline(old, new, request.created_at, request.due_at)
        if due is None:
            continue
        move = DeadlineMove(request.id, request.code, request.due_at, due)
        record_event(request, None, "deadline_changed", detail={
            "from_due_at": iso(move.old), "to_due_at": iso(due), "reason": "calendar"})
        request.due_at = due
        moved.append((request, move))
    db.session.commit()
    for request, move in moved:
        schedule_overdue_check(request)
        _tell_assignee(request, move)
    return [move for _, move in moved]


def _tell_assignee(request: ServiceRequest, move: DeadlineMove) -> None:
    assignee = db.session.get(Staff, request.assignee_id) if request.assignee_id else None
    if assignee is None or not assignee.active:
        return
    text = (f"【办理时限调整】诉求{request.code}（{summary_line(request)}）因节假日安排调整，"
            f"办理时限由{format_local(move.old)}改为{format_local(move.new)}。")
    raise_alert(key=f"request:{request.id}:deadline:{move.new.isoformat()}", kind=ALERT_KIND,
                community_id=request.community_id, text=text, recipients=[assignee],
                related={"request_id": request.id, "code": request.code, "from_due_at": iso(move.old),
                         "to_due_at": iso(move.new)}, roles={assignee.id: "assignee"})
