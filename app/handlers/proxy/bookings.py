"""Proxy-handling bookings (代办预约): no overbooking, idempotent, reminded.

The rules are shared by the chat flow (app/handlers/proxy/chat.py) and the
mini-program API (app/api/proxy_bookings.py).

Capacity is enforced inside the booking's database transaction with a
conditional UPDATE of the slot's ``SlotLoad`` row (see its docstring); the
client's idempotency key (unique per resident) makes a retried request return
the booking it already made. Reminders (app/handlers/proxy/reminders.py) are
scheduled when a booking is made or moved and cancelled with it.
"""
from __future__ import annotations

import re
import time as time_module
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timezone

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError, OperationalError

from app.clock import now as clock_now
from app.database import begin_write_transaction, dialect_name
from app.extensions import db
from app.handlers.audit import record
from app.handlers.org.profile import adopt_community
from app.handlers.proxy.availability import Slot, check_slot
from app.handlers.proxy.common import day_label, new_code, slot_label
from app.handlers.proxy.errors import BookingError, SlotError
from app.handlers.proxy.reminders import cancel_reminders, schedule_reminders
from app.handlers.proxy.stations import add_closure
from app.handlers.proxy.targets import message_target
from app.localtime import local_date
from app.models import Resident, Staff
from app.models.proxy import (
    BOOKING_STATUS_LABELS,
    Booking,
    BookingStatus,
    ServiceItem,
    SlotLoad,
    Station,
    StationClosure,
)

UTC = timezone.utc
CODE_PATTERN = re.compile(r"(?<![A-Za-z0-9])([A-HJ-NP-Za-hj-np-z2-9]{6})(?![A-Za-z0-9])")


@dataclass
class BookResult:
    booking: Booking
    created: bool

# ---- helpers ----------------------------------------------------------------------------------------

def _postgresql() -> bool:
    return dialect_name(db.session) == "postgresql"


def _insert_ignore_load(station_id: int, slot_start: datetime) -> None:
    # SlotLoad has a composite key and no id column, so app.database.insert_ignore does not fit.
    insert = postgresql.insert if _postgresql() else sqlite.insert
    db.session.execute(insert(SlotLoad).values(station_id=station_id, slot_start=slot_start, booked=0)
                       .on_conflict_do_nothing(index_elements=["station_id", "slot_start"]))


def take_place(station_id: int, slot_start: datetime, capacity: int) -> bool:
    """Take one place of a slot in the current transaction; False if it is full (see SlotLoad)."""
    _insert_ignore_load(station_id, slot_start)
    result = db.session.execute(
        update(SlotLoad).where(SlotLoad.station_id == station_id, SlotLoad.slot_start == slot_start,
                               SlotLoad.booked < capacity)
        .values(booked=SlotLoad.booked + 1).execution_options(synchronize_session=False))
    return result.rowcount == 1


def release_place(station_id: int, slot_start: datetime) -> None:
    db.session.execute(
        update(SlotLoad).where(SlotLoad.station_id == station_id, SlotLoad.slot_start == slot_start,
                               SlotLoad.booked > 0)
        .values(booked=SlotLoad.booked - 1).execution_options(synchronize_session=False))


def _lock_resident(resident_id: int) -> None:
    """Serialise one resident's bookings on PostgreSQL (SQLite's BEGIN IMMEDIATE already does)."""
    if _postgresql():
        db.session.execute(select(Resident.id).where(Resident.id == resident_id).with_for_update())


def _is_busy(exc: OperationalError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    return "locked" in text or "busy" in text or "deadlock" in text or "could not serialize" in text


def _now(now: datetime | None) -> datetime:
    return now or clock_now()


def upcoming(resident_id: int, *, now: datetime | None = None, item_id: int | None = None) -> list[Booking]:
    """The resident's confirmed bookings that have not ended yet, soonest first."""
    statement = select(Booking).where(Booking.resident_id == resident_id,
                                      Booking.status == BookingStatus.CONFIRMED.value,
                                      Booking.slot_end > _now(now))
    if item_id is not None:
        statement = statement.where(Booking.service_item_id == item_id)
    return list(db.session.scalars(statement.order_by(Booking.slot_start)))


def _limits(resident: Resident, item: ServiceItem, now: datetime, *, ignore_id: int | None = None) -> None:
    active = [b for b in upcoming(resident.id, now=now) if b.id != ignore_id]
    same = [b for b in active if b.service_item_id == item.id]
    if same:
        b = same[0]
        raise BookingError("already_booked", f"您已预约“{item.name}”：{slot_label(b.slot_start, None, local_date(now))}，"
                                             f"预约码 {b.code}。",
                           status=409, extra={"booking_code": b.code})
    limit = int(current_app.config.get("PROXY_MAX_ACTIVE_BOOKINGS", 3))
    if len(active) >= limit:
        raise BookingError("too_many", f"您已有{len(active)}个未办理的代办预约，最多可同时预约{limit}个；"
                                       f"请先办理或取消其中一个。", status=409)


def _check_scope(resident: Resident, item: ServiceItem, station: Station) -> None:
    if not item.active:
        raise BookingError("inactive_item", f"“{item.name}”暂不接受预约", status=400, field="service_key")
    if item.community_id != station.community_id:
        raise BookingError("wrong_station", "该代办站不办理这个事项（不在同一社区）", status=400, field="station_id")
    if not station.active:
        raise BookingError("inactive_station", f"{station.name}已停止预约服务", status=400, field="station_id")
    if resident.community_id is not None and resident.community_id != station.community_id:
        raise BookingError("wrong_community", "只能预约您所在社区的代办站", status=404, field="station_id")


def code_from_text(text: str | None) -> str | None:
    """A booking code mentioned in a message ("取消预约 d7k3q9"): letters and digits mixed, 6 long."""
    for match in CODE_PATTERN.finditer(unicodedata.normalize("NFKC", text or "")):
        candidate = match.group(1).upper()
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate
    return None


def booking_by_code(code: str) -> Booking | None:
    return db.session.scalars(select(Booking).where(Booking.code == code.strip().upper())).first()


# ---- booking ----------------------------------------------------------------------------------------

def book(*, resident: Resident, item: ServiceItem, station: Station, slot_start: datetime, idempotency_key: str,
         source: str = "api", channel: str | None = None, recipient_id: str | None = None,
         chat_id: str | None = None, group_id: int | None = None, note: str | None = None,
         now: datetime | None = None) -> BookResult:
    """Book a place; the same ``idempotency_key`` (per resident) returns the same booking.

    Raises BookingError (slot_full, past, closed days, limits, ...) with nothing written.
    """
    now = _now(now)
    if not isinstance(idempotency_key, str) or not idempotency_key.strip() or len(idempotency_key) > 150:
        raise BookingError("invalid", "idempotency_key 必须是1到150个字符", field="idempotency_key")
    key = f"r{resident.id}:{idempotency_key.strip()}"
    existing = db.session.scalars(select(Booking).where(Booking.idempotency_key == key)).first()
    if existing is not None:
        return _replay(existing, item, station, slot_start)
    if note is not None and len(note) > 500:
        raise BookingError("invalid", "备注最多500字", field="note")
    _check_scope(resident, item, station)
    try:
        slot = check_slot(station, slot_start, now=now)
    except SlotError as exc:
        raise BookingError.from_error(exc) from None

    for attempt in range(6):
        try:
            booking = _book_locked(resident, item, station, slot, key, now, source=source, channel=channel,
                                   recipient_id=recipient_id, chat_id=chat_id, group_id=group_id, note=note)
        except _AlreadyDone as done:
            return _replay(done.booking, item, station, slot_start)
        except IntegrityError:
            db.session.rollback()
            existing = db.session.scalars(select(Booking).where(Booking.idempotency_key == key)).first()
            if existing is not None:  # the same request raced itself
                return _replay(existing, item, station, slot_start)
            continue  # a booking code collision: draw another
        except OperationalError as exc:
            db.session.rollback()
            if _is_busy(exc) and attempt < 5:
                time_module.sleep(0.05 * (attempt + 1))
                continue
            raise
        schedule_reminders(booking)
        return BookResult(booking, True)
    raise BookingError("busy", "系统繁忙，请稍后再试", status=503)


class _AlreadyDone(Exception):
    def __init__(self, booking: Booking):
        self.booking = booking


def _book_locked(resident: Resident, item: ServiceItem, station: Station, slot: Slot, key: str, now: datetime,
                 **fields) -> Booking:
    begin_write_transaction(db.session)
    try:
        _lock_resident(resident.id)
        # The same request racing itself: whoever got the lock first booked; the others replay it.
        existing = db.session.scalars(select(Booking).where(Booking.idempotency_key == key)).first()
        if existing is not None:
            db.session.rollback()
            raise _AlreadyDone(existing)
        # Checked under the lock, so two different requests of one resident cannot both pass.
        _limits(resident, item, now)
        if not take_place(station.id, slot.start, slot.capacity):
            raise BookingError("slot_full", f"{slot_label(slot.start, None, local_date(now))}已约满，请换一个时间",
                               status=409, field="slot_start")
        booking = Booking(community_id=station.community_id, station_id=station.id, service_item_id=item.id,
                          resident_id=resident.id, slot_start=slot.start, slot_end=slot.end,
                          status=BookingStatus.CONFIRMED.value, code=new_code(), idempotency_key=key,
                          created_at=now, updated_at=now, **fields)
        db.session.add(booking)
        db.session.flush()
        record("resident", resident.id, "booking.created", booking, community_id=station.community_id,
               detail={"item": item.key, "slot_start": slot.start.isoformat(), "source": fields.get("source")})
        adopt_community(resident, station.community_id)
        db.session.commit()
    except BookingError:
        db.session.rollback()
        raise
    return booking


def _replay(existing: Booking, item: ServiceItem, station: Station, slot_start: datetime) -> BookResult:
    same_slot = (existing.station_id == station.id and slot_start.tzinfo is not None
                 and existing.slot_start == slot_start.astimezone(UTC))
    # A replay of the original request still returns the booking after it was moved.
    if existing.service_item_id != item.id or not (same_slot or existing.reschedule_count > 0):
        raise BookingError("idempotency_mismatch", "该 idempotency_key 已用于另一个预约请求",
                           status=409, field="idempotency_key")
    return BookResult(existing, False)


# ---- cancel and reschedule --------------------------------------------------------------------------

def cancel_booking(booking: Booking, *, by: str, resident: Resident | None = None, staff: Staff | None = None,
                   reason: str | None = None, notify: bool = False, now: datetime | None = None) -> Booking:
    """Cancel and free the place. Residents may cancel only their own booking, before it starts."""
    now = _now(now)
    if resident is not None and booking.resident_id != resident.id:
        raise BookingError("not_found", "没有找到您名下的这个预约", status=404)
    if booking.status != BookingStatus.CONFIRMED.value:
        raise BookingError("bad_state", f"该预约{BOOKING_STATUS_LABELS[booking.status]}，不能取消", status=409)
    if by == "resident" and now >= booking.slot_start:
        raise BookingError("started", "预约时间已到，不能在线取消，请直接联系代办站", status=409)
    begin_write_transaction(db.session)
    result = db.session.execute(
        update(Booking).where(Booking.id == booking.id, Booking.status == BookingStatus.CONFIRMED.value)
        .values(status=BookingStatus.CANCELLED.value, cancelled_at=now, cancelled_by=by,
                cancel_reason=(reason or None) and reason[:200], updated_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # cancelled (or checked in) by someone else meanwhile
        db.session.rollback()
        db.session.refresh(booking)
        raise BookingError("bad_state", f"该预约{BOOKING_STATUS_LABELS[booking.status]}，不能取消", status=409)
    release_place(booking.station_id, booking.slot_start)
    actor = ("resident", booking.resident_id) if by == "resident" else (
        ("staff", staff.id) if staff is not None else ("system", None))
    record(actor[0], actor[1], "booking.cancelled", booking, community_id=booking.community_id,
           detail={"reason": reason})
    db.session.commit()
    db.session.refresh(booking)
    cancel_reminders(booking)
    if notify:
        target = message_target(db.session.get(Resident, booking.resident_id), booking)
        if target is not None:
            text = (f"很抱歉，您预约的“{booking.service_item.name}”代办（{slot_label(booking.slot_start, None, local_date(now))}，"
                    f"预约码 {booking.code}）已取消{f'：{reason}' if reason else ''}。请回复“预约代办"
                    f"{booking.service_item.name}”重新预约其他时间。")
            target.send(text, idempotency_key=f"proxy:cancelled:{booking.id}", community_id=booking.community_id)
    return booking


def reschedule(booking: Booking, *, slot_start: datetime, resident: Resident | None = None,
               station: Station | None = None, now: datetime | None = None) -> Booking:
    """Move a confirmed booking to another slot in one transaction: the new place is taken and the old
    one freed together, or nothing changes. The booking code stays the same."""
    now = _now(now)
    if resident is not None and booking.resident_id != resident.id:
        raise BookingError("not_found", "没有找到您名下的这个预约", status=404)
    if booking.status != BookingStatus.CONFIRMED.value:
        raise BookingError("bad_state", f"该预约{BOOKING_STATUS_LABELS[booking.status]}，不能改期", status=409)
    if now >= booking.slot_start:
        raise BookingError("started", "预约时间已到，不能再改期，请直接联系代办站", status=409)
    station = station or booking.station
    if station.community_id != booking.community_id:
        raise BookingError("wrong_station", "只能改到本社区的代办站", status=400, field="station_id")
    if slot_start.tzinfo is None:
        raise BookingError("invalid", "时间必须带时区", field="slot_start")
    new_start = slot_start.astimezone(UTC)
    if station.id == booking.station_id and new_start == booking.slot_start:
        raise BookingError("same_slot", "新时间与原预约时间相同", status=409, field="slot_start")
    try:
        slot = check_slot(station, new_start, now=now)
    except SlotError as exc:
        raise BookingError.from_error(exc) from None
    old = (booking.station_id, booking.slot_start)
    for attempt in range(6):
        try:
            _move_locked(booking, station, slot, old, resident, now)
            break
        except OperationalError as exc:
            db.session.rollback()
            if _is_busy(exc) and attempt < 5:
                time_module.sleep(0.05 * (attempt + 1))
                continue
            raise
    db.session.refresh(booking)
    schedule_reminders(booking)
    return booking


def _move_locked(booking: Booking, station: Station, slot: Slot, old: tuple[int, datetime],
                 resident: Resident | None, now: datetime) -> None:
    """Take the new place, move the booking from ``old`` (station id, start) and free the old place: one commit."""
    old_station_id, old_start = old
    begin_write_transaction(db.session)
    if _postgresql():
        db.session.execute(select(Booking.id).where(Booking.id == booking.id).with_for_update())
    if not take_place(station.id, slot.start, slot.capacity):
        db.session.rollback()
        raise BookingError("slot_full", f"{slot_label(slot.start, None, local_date(now))}已约满，请换一个时间",
                           status=409, field="slot_start")
    moved = db.session.execute(
        update(Booking).where(Booking.id == booking.id, Booking.status == BookingStatus.CONFIRMED.value,
                              Booking.station_id == old_station_id, Booking.slot_start == old_start)
        .values(station_id=station.id, slot_start=slot.start, slot_end=slot.end,
                reminded_day_before_at=None, reminded_hour_before_at=None,
                reschedule_count=Booking.reschedule_count + 1, updated_at=now)
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        db.session.rollback()
        db.session.refresh(booking)
        raise BookingError("bad_state", "该预约刚刚被修改过，请刷新后再试", status=409)
    release_place(old_station_id, old_start)
    record("resident" if resident else "system", resident.id if resident else None, "booking.rescheduled",
           booking, community_id=booking.community_id,
           detail={"from": old_start.isoformat(), "to": slot.start.isoformat(), "station_id": station.id})
    db.session.commit()


# ---- closing a day ----------------------------------------------------------------------------------

def close_day(station: Station, day: date, reason: str | None, *, staff: Staff | None = None,
              cancel_bookings: bool = False) -> tuple[StationClosure, list[Booking]]:
    """Block a date at a station (stations.add_closure). Confirmed bookings that day make this fail (409)
    unless ``cancel_bookings``: then they are cancelled and each resident is told why. Commits."""
    closure, affected = add_closure(station, day, reason, staff=staff, cancel_bookings=cancel_bookings)
    why = f"代办站{day_label(day)}暂停服务{f'（{reason}）' if reason else ''}"
    cancelled = [cancel_booking(booking, by="staff", staff=staff, reason=why, notify=True) for booking in affected]
    return closure, cancelled
