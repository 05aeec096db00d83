"""Staff at the station (代办站): the day's bookings, check-in, no-show, hand-over, and the visit
that turns a booking into a case."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Iterable

from sqlalchemy import select, update

from app.clock import now as clock_now
from app.database import begin_write_transaction
from app.extensions import db
from app.handlers.audit import record
from app.handlers.proxy.cases import assign, create_case
from app.handlers.proxy.common import HANDLING_ROLES, day_label
from app.handlers.proxy.errors import BookingError, CaseError
from app.handlers.proxy.reminders import cancel_reminders
from app.localtime import at_local, local_date
from app.models import Staff
from app.models.proxy import BOOKING_STATUS_LABELS, Booking, BookingStatus, Case, CaseStatus, Station


def station_bookings(station: Station, day: date) -> list[Booking]:
    return list(db.session.scalars(select(Booking).where(
        Booking.station_id == station.id, Booking.slot_start >= at_local(day),
        Booking.slot_start < at_local(day + timedelta(days=1))).order_by(Booking.slot_start, Booking.id)))


def _set_status(booking: Booking, allowed: Iterable[str], values: dict[str, Any]) -> bool:
    result = db.session.execute(update(Booking).where(Booking.id == booking.id, Booking.status.in_(list(allowed)))
                                .values(**values).execution_options(synchronize_session=False))
    return result.rowcount == 1


def check_in(booking: Booking, *, staff: Staff, now: datetime | None = None) -> Booking:
    """The resident arrived (签到). Also accepts a resident marked no-show who turns up late."""
    now = now or clock_now()
    allowed = (BookingStatus.CONFIRMED.value, BookingStatus.NO_SHOW.value)
    if booking.status not in allowed:
        raise BookingError("bad_state", f"该预约{BOOKING_STATUS_LABELS[booking.status]}，不能签到", status=409)
    if local_date(booking.slot_start) != local_date(now):
        raise BookingError("not_today", f"这是{day_label(local_date(booking.slot_start))}的预约，只能在当天签到",
                           status=409)
    begin_write_transaction(db.session)
    if not _set_status(booking, allowed, {"status": BookingStatus.CHECKED_IN.value, "checked_in_at": now,
                                          "checked_in_by_staff_id": staff.id, "updated_at": now}):
        db.session.rollback()
        raise BookingError("bad_state", "该预约状态刚刚变化，请刷新后再试", status=409)
    record("staff", staff.id, "booking.checked_in", booking, community_id=booking.community_id)
    db.session.commit()
    db.session.refresh(booking)
    cancel_reminders(booking)
    return booking


def mark_no_show(booking: Booking, *, staff: Staff, now: datetime | None = None) -> Booking:
    now = now or clock_now()
    if booking.status != BookingStatus.CONFIRMED.value:
        raise BookingError("bad_state", f"该预约{BOOKING_STATUS_LABELS[booking.status]}，不能标记未到", status=409)
    if now < booking.slot_start:
        raise BookingError("too_early", "预约时间还没到，不能标记未到", status=409)
    begin_write_transaction(db.session)
    if not _set_status(booking, (BookingStatus.CONFIRMED.value,),
                       {"status": BookingStatus.NO_SHOW.value, "no_show_at": now, "updated_at": now}):
        db.session.rollback()
        raise BookingError("bad_state", "该预约状态刚刚变化，请刷新后再试", status=409)
    record("staff", staff.id, "booking.no_show", booking, community_id=booking.community_id)
    db.session.commit()
    db.session.refresh(booking)
    return booking


def hand_over(booking: Booking, *, staff: Staff, to_staff: Staff | None, note: str | None = None,
              now: datetime | None = None) -> Booking:
    """Hand the booking (and its case, if any) to another staff member of the community (交接)."""
    now = now or clock_now()
    if to_staff is None or not to_staff.active or to_staff.community_id != booking.community_id \
            or not to_staff.has_role(*HANDLING_ROLES):
        raise BookingError("unknown_staff", "找不到本社区可接手的工作人员", field="staff_id")
    if booking.status in (BookingStatus.CANCELLED.value, BookingStatus.NO_SHOW.value):
        raise BookingError("bad_state", f"该预约{BOOKING_STATUS_LABELS[booking.status]}，不能交接", status=409)
    if note is not None and len(note) > 500:
        raise BookingError("invalid", "备注最多500字", field="note")
    begin_write_transaction(db.session)
    booking.handed_over_to_staff_id = to_staff.id
    booking.handed_over_at = now
    booking.updated_at = now
    case = db.session.scalars(select(Case).where(Case.booking_id == booking.id)).first()
    try:
        if case is not None and case.status != CaseStatus.DONE.value:
            assign(case, to_staff, staff=staff, note=note, commit=False)
    except CaseError as exc:
        db.session.rollback()
        raise BookingError.from_error(exc) from None
    record("staff", staff.id, "booking.handed_over", booking, community_id=booking.community_id,
           detail={"to_staff_id": to_staff.id, "note": note})
    db.session.commit()
    return booking


def complete(booking: Booking, *, staff: Staff, responsible: Staff | None = None, note: str | None = None,
             now: datetime | None = None) -> Case:
    """The visit is done and the materials accepted: the booking becomes a case (one transaction)."""
    now = now or clock_now()
    allowed = (BookingStatus.CONFIRMED.value, BookingStatus.CHECKED_IN.value)
    if booking.status not in allowed:
        raise BookingError("bad_state", f"该预约{BOOKING_STATUS_LABELS[booking.status]}，不能受理", status=409)
    if booking.status == BookingStatus.CONFIRMED.value and local_date(booking.slot_start) != local_date(now):
        raise BookingError("not_today", "该预约不是今天的，请在预约当天受理", status=409)
    if responsible is None:
        responsible = db.session.get(Staff, booking.handed_over_to_staff_id) if booking.handed_over_to_staff_id \
            else staff
    begin_write_transaction(db.session)
    values = {"status": BookingStatus.COMPLETED.value, "completed_at": now, "updated_at": now}
    if booking.checked_in_at is None:
        values.update(checked_in_at=now, checked_in_by_staff_id=staff.id)
    if not _set_status(booking, allowed, values):
        db.session.rollback()
        raise BookingError("bad_state", "该预约状态刚刚变化，请刷新后再试", status=409)
    try:
        case = create_case(community_id=booking.community_id, item=booking.service_item,
                           resident_id=booking.resident_id, responsible=responsible, actor=staff, booking=booking,
                           note=note, commit=False)
    except CaseError as exc:
        db.session.rollback()
        db.session.refresh(booking)
        raise BookingError.from_error(exc) from None
    record("staff", staff.id, "booking.completed", booking, community_id=booking.community_id,
           detail={"case_id": case.id})
    db.session.commit()
    db.session.refresh(booking)
    cancel_reminders(booking)
    return case
