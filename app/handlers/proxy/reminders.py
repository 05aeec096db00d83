"""Booking reminders: the day before at PROXY_REMINDER_EVENING_HOUR and PROXY_REMINDER_MINUTES_BEFORE
before the slot.

Each is the job "proxy.remind" (workers/proxy.py) with a deterministic id,
``proxy-remind-<booking>-<kind>``, so rescheduling replaces it. The job reloads
the booking and sends nothing for a cancelled or moved booking, and the
outbox's idempotency key means a reminder is queued once even if the job and
the backstop sweep (``due_reminders``) both run.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import select, update

from app import jobs
from app.clock import now as clock_now
from app.extensions import db
from app.handlers.proxy.common import slot_label
from app.handlers.proxy.targets import message_target
from app.localtime import at_local, local_date, to_local
from app.models import Resident
from app.models.proxy import Booking, BookingStatus

DAY_BEFORE, HOUR_BEFORE = "day_before", "hour_before"
REMINDER_KINDS = (DAY_BEFORE, HOUR_BEFORE)

def reminder_times(booking: Booking) -> dict[str, datetime]:
    """When each reminder of the booking's current slot is due (aware UTC)."""
    config = current_app.config
    times: dict[str, datetime] = {}
    day_before = local_date(booking.slot_start) - timedelta(days=1)
    times[DAY_BEFORE] = at_local(day_before, time(int(config.get("PROXY_REMINDER_EVENING_HOUR", 18))))
    minutes = int(config.get("PROXY_REMINDER_MINUTES_BEFORE", 60))
    if minutes > 0:
        times[HOUR_BEFORE] = booking.slot_start - timedelta(minutes=minutes)
    return times


def reminder_job_id(booking_id: int, kind: str) -> str:
    return jobs.job_id("proxy", "remind", booking_id, kind)


def schedule_reminders(booking: Booking, *, now: datetime | None = None) -> list[str]:
    """Schedule the reminders still ahead (a reminder whose time has passed is not sent: the
    confirmation just told the resident). Deterministic ids: rescheduling replaces them.
    Redis down: the booking stands and the sweep sends the reminders."""
    now = now or clock_now()
    scheduled = []
    stamp = int(booking.slot_start.timestamp())
    for kind, due in reminder_times(booking).items():
        job_id = reminder_job_id(booking.id, kind)
        if not now < due < booking.slot_start:
            jobs.unschedule(job_id)
        elif jobs.schedule("proxy.remind", due, booking.id, kind, stamp, job_id=job_id):
            scheduled.append(kind)
    return scheduled


def cancel_reminders(booking: Booking) -> None:
    for kind in REMINDER_KINDS:
        jobs.unschedule(reminder_job_id(booking.id, kind))


def reminder_text(booking: Booking, kind: str, now: datetime) -> str:
    station = booking.station
    item = booking.service_item
    where = station.name + (f"（{station.address}）" if station.address else "")
    when = slot_label(booking.slot_start, booking.slot_end, local_date(now))
    if kind == DAY_BEFORE:
        lines = [f"【代办预约提醒】您预约的“{item.name}”代办在{when}，地点：{where}，预约码 {booking.code}。"]
        if item.materials:
            lines.append("请携带：")
            lines.extend(f"· {m}" for m in item.materials)
        lines.append(f"如需取消，请回复“取消预约 {booking.code}”。")
        return "\n".join(lines)
    return (f"【代办预约提醒】您预约的“{item.name}”代办将于{to_local(booking.slot_start):%H:%M}开始，"
            f"地点：{where}，预约码 {booking.code}。请带好材料准时到达；如不能前来，请回复“取消预约 {booking.code}”。")


def send_reminder(booking_id: int, kind: str, slot_stamp: int | None = None, *, now: datetime | None = None) -> str:
    """Queue one reminder unless the booking is no longer confirmed, has moved, has started, or the
    reminder was already queued. Returns what happened (for logs and tests)."""
    now = now or clock_now()
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        return "skipped:missing"
    db.session.refresh(booking)
    if booking.status != BookingStatus.CONFIRMED.value:
        return f"skipped:{booking.status}"
    stamp = int(booking.slot_start.timestamp())
    if slot_stamp is not None and slot_stamp != stamp:
        return "skipped:rescheduled"
    if now >= booking.slot_start:
        return "skipped:started"
    flag = "reminded_day_before_at" if kind == DAY_BEFORE else "reminded_hour_before_at"
    if getattr(booking, flag) is not None:
        return "skipped:sent"
    target = message_target(db.session.get(Resident, booking.resident_id), booking)
    if target is not None:
        # The key carries the slot: a rescheduled booking is reminded again, a re-run job is not.
        target.send(reminder_text(booking, kind, now), idempotency_key=f"proxy:remind:{booking.id}:{kind}:{stamp}",
                    community_id=booking.community_id)
    db.session.execute(update(Booking).where(Booking.id == booking.id, getattr(Booking, flag).is_(None))
                       .values({flag: now}).execution_options(synchronize_session=False))
    db.session.commit()
    db.session.refresh(booking)
    return "sent" if target is not None else "skipped:no_channel"


def due_reminders(now: datetime | None = None) -> list[tuple[int, str, int]]:
    """Backstop for lost jobs: reminders due now whose job never ran (only the latest kind due,
    and never one that was already due when the booking was made)."""
    now = now or clock_now()
    statement = select(Booking).where(Booking.status == BookingStatus.CONFIRMED.value, Booking.slot_start > now,
                                      Booking.slot_start <= now + timedelta(days=2))
    due: list[tuple[int, str, int]] = []
    for booking in db.session.scalars(statement):
        latest = None
        for kind, when in reminder_times(booking).items():
            if booking.created_at < when <= now and (latest is None or when > latest[1]):
                latest = (kind, when)
        if latest is None:
            continue
        flag = "reminded_day_before_at" if latest[0] == DAY_BEFORE else "reminded_hour_before_at"
        if getattr(booking, flag) is None:
            due.append((booking.id, latest[0], int(booking.slot_start.timestamp())))
    return due
