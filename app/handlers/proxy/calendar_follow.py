"""The proxy domain follows the calendar: case deadlines move, bookings on a day that closed are cancelled.

Called after a notice import or an override change (app/handlers/calendar_sync.py)
with the calendar before and after:

- an open case's deadline is counted again with the same number of working days;
  one that moves gets a ``deadline_changed`` event and its responsible staff
  member is told (an alert, recorded once);
- a confirmed booking on a changed day whose slot the station no longer offers
  (the day became a holiday, or a make-up day with other hours) is cancelled and
  the resident told why, as for a station closure (``bookings.cancel_booking``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.clock import now as clock_now
from app.extensions import db
from app.handlers.alerts import raise_alert
from app.handlers.proxy.availability import closures_between, day_plan, raw_slots
from app.handlers.proxy.bookings import cancel_booking
from app.handlers.proxy.cases import record_event
from app.localtime import at_local, format_local, iso, local_date
from app.models import Staff
from app.models.alerts import AlertKind
from app.models.proxy import Booking, BookingStatus, Case, CaseStatus, Station
from app.workcal import WorkCalendar, moved_deadline

ALERT_KIND = AlertKind.DEADLINE.value


@dataclass(frozen=True)
class CaseMove:
    id: int
    code: str
    old: datetime
    new: datetime


def follow_case_deadlines(old: WorkCalendar, new: WorkCalendar) -> list[CaseMove]:
    """Recount the deadlines of open cases; returns those that moved (committed)."""
    moved: list[tuple[Case, CaseMove]] = []
    for case in db.session.scalars(select(Case).where(Case.status != CaseStatus.DONE.value).order_by(Case.id)):
        due = moved_deadline(old, new, case.created_at, case.due_at)
        if due is None:
            continue
        move = CaseMove(case.id, case.code, case.due_at, due)
        record_event(case, "deadline_changed", staff=None, from_status=case.status, to_status=case.status,
                     note="节假日安排调整，办理时限随之调整",
                     detail={"from_due_at": iso(move.old), "to_due_at": iso(due), "reason": "calendar"})
        case.due_at, case.updated_at = due, clock_now()
        moved.append((case, move))
    db.session.commit()
    for case, move in moved:
        _tell_responsible(case, move)
    return [move for _, move in moved]


def _tell_responsible(case: Case, move: CaseMove) -> None:
    staff = db.session.get(Staff, case.responsible_staff_id)
    if staff is None or not staff.active:
        return
    text = (f"【办理时限调整】代办件{case.code}（{case.service_item.name}）因节假日安排调整，"
            f"办理时限由{format_local(move.old)}改为{format_local(move.new)}。")
    raise_alert(key=f"case:{case.id}:deadline:{move.new.isoformat()}", kind=ALERT_KIND,
                community_id=case.community_id, text=text, recipients=[staff],
                related={"case_id": case.id, "code": case.code, "from_due_at": iso(move.old),
                         "to_due_at": iso(move.new)}, roles={staff.id: "responsible"})


def follow_bookings(new: WorkCalendar, changed_days: list[date]) -> list[Booking]:
    """Cancel the upcoming bookings on ``changed_days`` whose slot is no longer offered; returns them."""
    today = local_date(clock_now())
    cancelled: list[Booking] = []
    for day in sorted(d for d in set(changed_days) if d >= today):
        bookings = db.session.scalars(select(Booking).where(
            Booking.status == BookingStatus.CONFIRMED.value, Booking.slot_start >= at_local(day),
            Booking.slot_start < at_local(day + timedelta(days=1)), Booking.slot_start > clock_now())
            .order_by(Booking.station_id, Booking.slot_start)).all()
        for station_id in sorted({b.station_id for b in bookings}):
            station = db.session.get(Station, station_id)
            plan = day_plan(station, day, new, closures_between([station_id], day, day)[station_id])
            offered = {start for start, _, _ in raw_slots(station, plan)} if plan.open else set()
            why = plan.message or f"{day.month}月{day.day}日代办站开放时间调整"
            for booking in (b for b in bookings if b.station_id == station_id and b.slot_start not in offered):
                cancelled.append(cancel_booking(booking, by="system", reason=f"节假日安排调整，{why}", notify=True))
    return cancelled
