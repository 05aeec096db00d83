"""Proxy-handling bookings (代办预约): no overbooking, idempotent, reminded, and bookable by chat.

The logic is shared by the chat flow (``handle_book``/``continue_flow``/
``handle_cancel``/``progress_lines``, called by the conversation router) and the
mini-program API (app/api/proxy.py).

Capacity is enforced inside the booking's database transaction with a
conditional UPDATE of the slot's ``SlotLoad`` row (see its docstring); the
client's idempotency key (unique per resident) makes a retried request return
the booking it already made. Reminders are RQ jobs with deterministic ids (the
day before at PROXY_REMINDER_EVENING_HOUR and PROXY_REMINDER_MINUTES_BEFORE
before); the job reloads the booking and sends nothing for a cancelled or moved
booking, and the outbox's idempotency key means a reminder is queued once even
if the job and the backstop sweep both run.
"""
from __future__ import annotations

import logging
import re
import time as time_module
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from app.bot.numerals import to_int
from app.clock import now as clock_now
from app.extensions import db
from app.handlers.audit import record
from app.handlers.cases import HANDLING_ROLES, CaseError, begin_write_transaction, new_code
from app.handlers.messaging.features import ChatFeature
from app.handlers.slots import (
    PERIOD_LABELS,
    Slot,
    SlotError,
    at_local,
    check_slot,
    day_label,
    day_plan,
    free_slots,
    local,
    local_date,
    slot_label,
    spread,
    stations_for,
)
from app.models import Channel, Community, Resident, ResidentGroup, Staff
from app.models.masking import mask_name
from app.models.proxy import (
    BOOKING_STATUS_LABELS,
    Booking,
    BookingStatus,
    Case,
    CaseStatus,
    ServiceItem,
    SlotLoad,
    Station,
)

log = logging.getLogger(__name__)
UTC = timezone.utc

FLOW = "book_proxy"
DAY_BEFORE, HOUR_BEFORE = "day_before", "hour_before"
REMINDER_KINDS = (DAY_BEFORE, HOUR_BEFORE)
DIRECT_CHANNELS = (Channel.MINIPROGRAM.value, Channel.MP.value, Channel.WEWORK.value)
CODE_PATTERN = re.compile(r"(?<![A-Za-z0-9])([A-HJ-NP-Za-hj-np-z2-9]{6})(?![A-Za-z0-9])")
MAX_TRIES = 3


class BookingError(ValueError):
    """A booking request that cannot be carried out; ``message`` is Chinese for residents and staff."""

    def __init__(self, code: str, message: str, *, status: int = 400, field: str | None = None,
                 extra: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.field = field
        self.extra = extra or {}

    @classmethod
    def from_slot(cls, exc: SlotError) -> "BookingError":
        return cls(exc.code, exc.message, status=exc.status, field=exc.field, extra=exc.extra)


@dataclass
class BookResult:
    booking: Booking
    created: bool


# ---- helpers ----------------------------------------------------------------------------------------

def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _insert_ignore_load(station_id: int, slot_start: datetime) -> None:
    if _dialect() == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
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
    if _dialect() == "postgresql":
        db.session.execute(select(Resident.id).where(Resident.id == resident_id).with_for_update())


def _is_busy(exc: OperationalError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    return "locked" in text or "busy" in text or "deadlock" in text or "could not serialize" in text


def _now(now: datetime | None) -> datetime:
    return now or clock_now()


def _today(now: datetime) -> date:
    return local_date(now)


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
        raise BookingError("already_booked", f"您已预约“{item.name}”：{slot_label(b.slot_start, None, _today(now))}，"
                                             f"预约码 {b.code}。如需改时间，请说“改到周五下午”；取消请说“取消预约 {b.code}”。",
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
        raise BookingError.from_slot(exc) from None

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
    begin_write_transaction()
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
            raise BookingError("slot_full", f"{slot_label(slot.start, None, _today(now))}已约满，请换一个时间",
                               status=409, field="slot_start")
        booking = Booking(community_id=station.community_id, station_id=station.id, service_item_id=item.id,
                          resident_id=resident.id, slot_start=slot.start, slot_end=slot.end,
                          status=BookingStatus.CONFIRMED.value, code=new_code(), idempotency_key=key,
                          created_at=now, updated_at=now, **fields)
        db.session.add(booking)
        db.session.flush()
        record("resident", resident.id, "booking.created", booking, community_id=station.community_id,
               detail={"item": item.key, "slot_start": slot.start.isoformat(), "source": fields.get("source")})
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
    begin_write_transaction()
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
            text = (f"很抱歉，您预约的“{booking.service_item.name}”代办（{slot_label(booking.slot_start, None, _today(now))}，"
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
        raise BookingError.from_slot(exc) from None
    old_station_id, old_start = booking.station_id, booking.slot_start
    for attempt in range(6):
        try:
            begin_write_transaction()
            if _dialect() == "postgresql":
                db.session.execute(select(Booking.id).where(Booking.id == booking.id).with_for_update())
            if not take_place(station.id, slot.start, slot.capacity):
                db.session.rollback()
                raise BookingError("slot_full", f"{slot_label(slot.start, None, _today(now))}已约满，请换一个时间",
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


# ---- reminders --------------------------------------------------------------------------------------

@dataclass
class Target:
    """Where a message to a resident goes: their 1:1 chat if we know one, else their group."""

    channel: str
    recipient_kind: str
    recipient_id: str
    resident_id: int | None = None
    chat_id: str | None = None
    group_id: int | None = None
    prefix: str = ""

    def send(self, text: str, *, idempotency_key: str, community_id: int | None):
        from app.handlers.messaging.outbox import queue_message
        return queue_message(channel=self.channel, recipient_kind=self.recipient_kind,
                             recipient_id=self.recipient_id, text=self.prefix + text,
                             idempotency_key=idempotency_key, community_id=community_id, chat_id=self.chat_id,
                             group_id=self.group_id, resident_id=self.resident_id)


def message_target(resident: Resident | None, booking: Booking | None = None) -> Target | None:
    from app.handlers.messaging.outbox import TO_GROUP, TO_USER

    if resident is None:
        return None
    if booking is not None and booking.channel in DIRECT_CHANNELS and booking.recipient_id:
        return Target(booking.channel, TO_USER, booking.recipient_id, resident.id)
    preference = [(Channel.MINIPROGRAM.value, "openid"), (Channel.MP.value, "openid"),
                  (Channel.WEWORK.value, "external_userid")]
    for channel, kind in preference:
        for identity in resident.identities:
            if identity.channel == channel and identity.kind == kind:
                return Target(channel, TO_USER, identity.value, resident.id)
    if booking is not None and booking.group_id is not None:
        group = db.session.get(ResidentGroup, booking.group_id)
        if group is not None and group.active:
            # No private channel: post in the group, naming the resident only by the masked name.
            return Target(group.channel, TO_GROUP, group.chat_id, resident.id, chat_id=group.chat_id,
                          group_id=group.id, prefix=f"@{mask_name(resident.display_name)} ")
    return None


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
    from app.jobs import job_id
    return job_id("proxy", "remind", booking_id, kind)


def schedule_reminders(booking: Booking, *, now: datetime | None = None) -> list[str]:
    """Schedule the reminders still ahead (a reminder whose time has passed is not sent: the
    confirmation just told the resident). Deterministic ids: rescheduling replaces them."""
    from workers.proxy import send_booking_reminder

    now = _now(now)
    scheduled = []
    stamp = int(booking.slot_start.timestamp())
    for kind, due in reminder_times(booking).items():
        job = reminder_job_id(booking.id, kind)
        try:
            if now < due < booking.slot_start:
                send_booking_reminder.enqueue_at(due, booking.id, kind, stamp, job_id=job)
                scheduled.append(kind)
            else:
                _cancel_job(job)
        except Exception:  # noqa: BLE001 - Redis down: the booking stands; the sweep sends reminders
            log.warning("could not schedule the %s reminder of booking %s", kind, booking.id, exc_info=True)
    return scheduled


def _cancel_job(job: str) -> None:
    from app.extensions import redis_ext
    from app.jobs import cancel
    cancel(job, redis_ext.client)


def cancel_reminders(booking: Booking) -> None:
    for kind in REMINDER_KINDS:
        try:
            _cancel_job(reminder_job_id(booking.id, kind))
        except Exception:  # noqa: BLE001 - the job re-checks the status anyway
            log.warning("could not cancel the %s reminder of booking %s", kind, booking.id, exc_info=True)


def reminder_text(booking: Booking, kind: str, now: datetime) -> str:
    station = booking.station
    item = booking.service_item
    where = station.name + (f"（{station.address}）" if station.address else "")
    when = slot_label(booking.slot_start, booking.slot_end, _today(now))
    if kind == DAY_BEFORE:
        lines = [f"【代办预约提醒】您预约的“{item.name}”代办在{when}，地点：{where}，预约码 {booking.code}。"]
        if item.materials:
            lines.append("请携带：")
            lines.extend(f"· {m}" for m in item.materials)
        lines.append(f"如需取消，请回复“取消预约 {booking.code}”。")
        return "\n".join(lines)
    return (f"【代办预约提醒】您预约的“{item.name}”代办将于{local(booking.slot_start):%H:%M}开始，"
            f"地点：{where}，预约码 {booking.code}。请带好材料准时到达；如不能前来，请回复“取消预约 {booking.code}”。")


def send_reminder(booking_id: int, kind: str, slot_stamp: int | None = None, *, now: datetime | None = None) -> str:
    """Queue one reminder unless the booking is no longer confirmed, has moved, has started, or the
    reminder was already queued. Returns what happened (for logs and tests)."""
    now = _now(now)
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
    now = _now(now)
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


# ---- staff at the station ---------------------------------------------------------------------------

def station_bookings(station: Station, day: date) -> list[Booking]:
    return list(db.session.scalars(select(Booking).where(
        Booking.station_id == station.id, Booking.slot_start >= at_local(day, time(0)),
        Booking.slot_start < at_local(day + timedelta(days=1), time(0))).order_by(Booking.slot_start, Booking.id)))


def _set_status(booking: Booking, allowed: Iterable[str], values: dict[str, Any]) -> bool:
    result = db.session.execute(update(Booking).where(Booking.id == booking.id, Booking.status.in_(list(allowed)))
                                .values(**values).execution_options(synchronize_session=False))
    return result.rowcount == 1


def check_in(booking: Booking, *, staff: Staff, now: datetime | None = None) -> Booking:
    """The resident arrived (签到). Also accepts a resident marked no-show who turns up late."""
    now = _now(now)
    allowed = (BookingStatus.CONFIRMED.value, BookingStatus.NO_SHOW.value)
    if booking.status not in allowed:
        raise BookingError("bad_state", f"该预约{BOOKING_STATUS_LABELS[booking.status]}，不能签到", status=409)
    if local_date(booking.slot_start) != local_date(now):
        raise BookingError("not_today", f"这是{day_label(local_date(booking.slot_start))}的预约，只能在当天签到",
                           status=409)
    begin_write_transaction()
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
    now = _now(now)
    if booking.status != BookingStatus.CONFIRMED.value:
        raise BookingError("bad_state", f"该预约{BOOKING_STATUS_LABELS[booking.status]}，不能标记未到", status=409)
    if now < booking.slot_start:
        raise BookingError("too_early", "预约时间还没到，不能标记未到", status=409)
    begin_write_transaction()
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
    now = _now(now)
    if to_staff is None or not to_staff.active or to_staff.community_id != booking.community_id \
            or not to_staff.has_role(*HANDLING_ROLES):
        raise BookingError("unknown_staff", "找不到本社区可接手的工作人员", field="staff_id")
    if booking.status in (BookingStatus.CANCELLED.value, BookingStatus.NO_SHOW.value):
        raise BookingError("bad_state", f"该预约{BOOKING_STATUS_LABELS[booking.status]}，不能交接", status=409)
    if note is not None and len(note) > 500:
        raise BookingError("invalid", "备注最多500字", field="note")
    from app.handlers.cases import assign
    begin_write_transaction()
    booking.handed_over_to_staff_id = to_staff.id
    booking.handed_over_at = now
    booking.updated_at = now
    case = db.session.scalars(select(Case).where(Case.booking_id == booking.id)).first()
    try:
        if case is not None and case.status != CaseStatus.DONE.value:
            assign(case, to_staff, staff=staff, note=note, commit=False)
    except CaseError as exc:
        db.session.rollback()
        raise BookingError(exc.code, exc.message, status=exc.status, field=exc.field) from None
    record("staff", staff.id, "booking.handed_over", booking, community_id=booking.community_id,
           detail={"to_staff_id": to_staff.id, "note": note})
    db.session.commit()
    return booking


def complete(booking: Booking, *, staff: Staff, responsible: Staff | None = None, note: str | None = None,
             now: datetime | None = None) -> Case:
    """The visit is done and the materials accepted: the booking becomes a case (one transaction)."""
    from app.handlers.cases import create_case

    now = _now(now)
    allowed = (BookingStatus.CONFIRMED.value, BookingStatus.CHECKED_IN.value)
    if booking.status not in allowed:
        raise BookingError("bad_state", f"该预约{BOOKING_STATUS_LABELS[booking.status]}，不能受理", status=409)
    if booking.status == BookingStatus.CONFIRMED.value and local_date(booking.slot_start) != local_date(now):
        raise BookingError("not_today", "该预约不是今天的，请在预约当天受理", status=409)
    if responsible is None:
        responsible = db.session.get(Staff, booking.handed_over_to_staff_id) if booking.handed_over_to_staff_id \
            else staff
    begin_write_transaction()
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
        raise BookingError(exc.code, exc.message, status=exc.status, field=exc.field) from None
    record("staff", staff.id, "booking.completed", booking, community_id=booking.community_id,
           detail={"case_id": case.id})
    db.session.commit()
    db.session.refresh(booking)
    cancel_reminders(booking)
    return case


# ---- views ------------------------------------------------------------------------------------------

def booking_view(booking: Booking, *, staff: bool = False) -> dict[str, Any]:
    from app.localtime import iso
    station = booking.station
    view = {
        "id": booking.id, "code": booking.code, "status": booking.status,
        "status_label": BOOKING_STATUS_LABELS[booking.status],
        "service_item": {"id": booking.service_item.id, "key": booking.service_item.key,
                         "name": booking.service_item.name, "materials": list(booking.service_item.materials or [])},
        "station": {"id": station.id, "name": station.name, "address": station.address},
        "slot_start": iso(booking.slot_start), "slot_end": iso(booking.slot_end),
        "created_at": iso(booking.created_at), "cancelled_at": iso(booking.cancelled_at),
        "checked_in_at": iso(booking.checked_in_at), "completed_at": iso(booking.completed_at),
        "reschedule_count": booking.reschedule_count,
    }
    case = db.session.scalars(select(Case).where(Case.booking_id == booking.id)).first()
    view["case_code"] = case.code if case else None
    if staff:
        resident = db.session.get(Resident, booking.resident_id)
        handed = db.session.get(Staff, booking.handed_over_to_staff_id) if booking.handed_over_to_staff_id else None
        view.update({
            "resident": resident.staff_view() if resident else None, "source": booking.source,
            "note": booking.note, "cancel_reason": booking.cancel_reason, "cancelled_by": booking.cancelled_by,
            "no_show_at": iso(booking.no_show_at), "handed_over_to": handed.public_view() if handed else None,
            "handed_over_at": iso(booking.handed_over_at), "case_id": case.id if case else None,
            "reminded_day_before_at": iso(booking.reminded_day_before_at),
            "reminded_hour_before_at": iso(booking.reminded_hour_before_at),
        })
    return view


# ---- understanding times in chat --------------------------------------------------------------------

@dataclass
class When:
    """A time expression from a chat message, in local time."""

    day: date | None = None
    period: str | None = None
    clock: time | None = None
    invalid: str | None = None   # what was not understood, quoted back to the resident

    @property
    def given(self) -> bool:
        return bool(self.day or self.period or self.clock)


def parse_when(text: str, now: datetime) -> When:
    """Read 明天上午 / 周五下午 / 11月20日 9点半 / 15:00 relative to ``now``, with the bot's time parser.

    Impossible values ("八十点", "25:00", "2月30日") come back in ``invalid``
    instead of being guessed at.
    """
    from app.bot.timeparse import parse

    slots = parse(unicodedata.normalize("NFKC", text or ""), now, current_app.config.get("TIMEZONE", "Asia/Shanghai"))
    return _when_from_slots(slots)


def _when_from_slots(slots: dict) -> When:
    when = When()
    try:
        if slots.get("date"):
            when.day = date.fromisoformat(str(slots["date"]))
        if slots.get("time"):
            hh, mm = str(slots["time"]).split(":")[:2]
            when.clock = time(int(hh), int(mm))
    except (ValueError, TypeError):
        when.invalid = str(slots.get("time") or slots.get("date"))
    period = slots.get("period")
    when.period = "afternoon" if period == "noon" else period if period in PERIOD_LABELS else None
    bad = slots.get("invalid_time")
    if bad:
        when.invalid = bad if isinstance(bad, str) else (when.invalid or "")
    if when.clock is not None and when.period is None:
        when.period = period_name(when.clock)
    return when


def period_name(clock: time) -> str:
    return "morning" if clock < time(12) else "afternoon" if clock < time(18) else "evening"


def merge_understanding(ctx, now: datetime) -> When:
    """The bot's slots when it found a time, our own reading of the raw text otherwise."""
    slots = getattr(ctx.understanding, "slots", None) or {}
    if any(slots.get(k) for k in ("date", "time", "period", "invalid_time")):
        when = _when_from_slots(slots)
        if when.invalid == "":
            when.invalid = (getattr(ctx.inbound, "text", None) or "").strip()[:20]
        return when
    return parse_when(getattr(ctx.inbound, "text", None) or "", now)


_CHOICE = re.compile(r"^(?:第|选|选择|要)?\s*([1-9]|[一二三四五六七八九])\s*(?:个|号|项|吧|个吧)?[。.!！~]*$")


def parse_choice(text: str | None) -> int | None:
    text = unicodedata.normalize("NFKC", (text or "").strip())
    m = _CHOICE.match(text)
    if not m:
        return None
    raw = m.group(1)
    return int(raw) if raw.isdigit() else to_int(raw)


# ---- chat: booking flow -----------------------------------------------------------------------------

RESCHEDULE_WORDS = re.compile(r"改到|改成|改在|改为|换到|换成|改约|改期|调到|推迟到|提前到|延后到|"
                              r"[改换][一下个]*(?:预约)?(?:的)?时间")
EVENT_WORDS = re.compile(r"活动|报名|义诊|讲座|课堂|志愿")


def _community(ctx) -> Community | None:
    if ctx.community_id is not None:
        return db.session.get(Community, ctx.community_id)
    # A 1:1 chat with a resident not yet linked to a community: a deployment serving a single
    # community with a station can still take the booking.
    ids = db.session.scalars(select(Station.community_id).where(Station.active.is_(True)).distinct()).all()
    return db.session.get(Community, ids[0]) if len(ids) == 1 else None


def _item_for(ctx, community_id: int) -> ServiceItem | None:
    from app.handlers.catalogue import find_item, match_item
    slots = getattr(ctx.understanding, "slots", None) or {}
    if slots.get("service"):
        item = find_item(community_id, slots["service"])
        if item is not None and item.active:
            return item
    return match_item(community_id, getattr(ctx.inbound, "text", None) or "")


def _slot_ref(slot: Slot) -> dict[str, Any]:
    return {"station_id": slot.station_id, "start": slot.start.isoformat()}


def _offer_lines(slots: list[Slot], stations: dict[int, Station], today: date) -> list[str]:
    many = len({s.station_id for s in slots}) > 1 or len(stations) > 1
    return [f"{n}）{slot_label(s.start, s.end, today)}" + (f"  {stations[s.station_id].name}" if many else "")
            for n, s in enumerate(slots, start=1)]


def _materials_lines(item: ServiceItem) -> list[str]:
    lines = []
    if item.materials:
        lines.append("请携带：")
        lines.extend(f"· {m}" for m in item.materials)
    lines.append("需本人到场办理。" if item.visit_required else "本人行动不便的，家属可代为携带材料办理。")
    return lines


def _window_slots(stations: list[Station], when: When, now: datetime) -> list[Slot]:
    slots = free_slots(stations, now=now, first_day=when.day, last_day=when.day, period=when.period)
    if when.clock is not None:
        wanted = [s for s in slots if local(s.start).time() <= when.clock < local(s.end).time()]
        later = [s for s in slots if local(s.start).time() > when.clock]
        slots = wanted + later
    return slots


def _why_not(stations: list[Station], when: When, now: datetime) -> str:
    """Why a requested day/time has nothing free, in Chinese."""
    from app.workcal import load_calendar
    today = local_date(now)
    if when.day is not None:
        if when.day < today:
            return f"{day_label(when.day)}已经过去了"
        from app.handlers.slots import last_bookable_day
        if when.day > last_bookable_day(now):
            return f"只能预约{current_app.config['PROXY_BOOKING_DAYS_AHEAD']}天以内的时间"
        from app.handlers.slots import _closures
        calendar = load_calendar()
        closures = _closures([s.id for s in stations], when.day, when.day)
        plans = [day_plan(s, when.day, calendar, closures[s.id]) for s in stations]
        if not any(p.open for p in plans):
            return plans[0].message or f"{day_label(when.day)}代办站不开放"
        if when.clock is not None:
            inside = any(i.opens <= when.clock < i.closes for p in plans if p.open for i in p.intervals)
            if not inside:
                hours = "；".join(f"{' '.join(f'{i.opens:%H:%M}–{i.closes:%H:%M}' for i in p.intervals)}"
                                 for p in plans if p.open)
                return f"{when.clock:%H:%M}不在办公时间内（{day_label(when.day, today)}：{hours}）"
    what = (day_label(when.day, today) if when.day else "") + (PERIOD_LABELS.get(when.period or "", "")) + \
        (f"{when.clock:%H:%M}" if when.clock else "")
    return f"{what or '所选时间'}已约满或已过可预约时间"


def _offer(ctx, item: ServiceItem, stations: list[Station], now: datetime, *, intro: list[str],
           when: When | None = None, mode: str = "book", booking: Booking | None = None, handled_by: str):
    """Reply with numbered slots and remember them in the flow state."""
    count = int(current_app.config.get("PROXY_OFFER_SLOTS", 3))
    today = local_date(now)
    lines = list(intro)
    slots: list[Slot] = []
    if when is not None and when.given:
        slots = _window_slots(stations, when, now)[:count]
        if not slots:
            lines.append(f"{_why_not(stations, when, now)}。")
    if not slots:
        slots = spread(free_slots(stations, now=now), count)
        if slots and when is not None and when.given:
            lines.append("最近可预约的时间：")
        elif slots:
            lines.append("可预约的时间：")
    elif when is not None and when.given:
        lines.append("可预约的时间：")
    if not slots:
        lines.append(f"近{current_app.config['PROXY_BOOKING_DAYS_AHEAD']}天的预约都已约满，请过几天再试，"
                     f"或直接到代办站咨询。")
        ctx.end_flow()
        return ctx.reply("\n".join(lines), handled_by, item=item.key, offers=0)
    station_map = {s.id: s for s in stations}
    lines.extend(_offer_lines(slots, station_map, today))
    lines.append("请回复序号，或直接说时间（如“周五下午”）。")
    data = {"step": "slot", "item": item.key, "mode": mode, "offers": [_slot_ref(s) for s in slots], "tries": 0}
    if booking is not None:
        data["booking_id"] = booking.id
    ctx.start_flow(FLOW, **data)
    return ctx.reply("\n".join(lines), handled_by, item=item.key, offers=len(slots))


def _confirmation(booking: Booking, now: datetime, *, rescheduled: bool = False) -> str:
    station, item = booking.station, booking.service_item
    lines = ["改约成功！" if rescheduled else "预约成功！",
             f"事项：{item.name}",
             f"时间：{slot_label(booking.slot_start, booking.slot_end, local_date(now))}",
             f"地点：{station.name}" + (f"（{station.address}）" if station.address else ""),
             f"预约码：{booking.code}"]
    if not rescheduled:
        lines.extend(_materials_lines(item))
    hints = []
    labels = {DAY_BEFORE: "前一天晚上",
              HOUR_BEFORE: f"开始前{current_app.config.get('PROXY_REMINDER_MINUTES_BEFORE', 60)}分钟"}
    ahead = [labels[k] for k, due in reminder_times(booking).items() if now < due < booking.slot_start]
    if ahead:
        hints.append(f"我们会在{'和'.join(ahead)}提醒您。")
    hints.append(f"如需取消，回复“取消预约 {booking.code}”；改时间可说“改到周五下午”。")
    return "\n".join(lines + hints)


def _chat_fields(ctx) -> dict[str, Any]:
    inbound = ctx.inbound
    direct = inbound.channel in DIRECT_CHANNELS and getattr(inbound, "chat_type", "private") != "group"
    return {"source": "chat", "channel": inbound.channel,
            "recipient_id": inbound.sender_id if direct else None,
            "chat_id": inbound.chat_id, "group_id": ctx.group.id if getattr(ctx, "group", None) else None}


def _idempotency(ctx) -> str:
    message = getattr(ctx, "message", None)
    if message is not None and getattr(message, "id", None) is not None:
        return f"chat:{message.id}"
    return f"chat:{ctx.inbound.channel}:{ctx.inbound.dedupe_key}"


def _do_book(ctx, item: ServiceItem, station: Station, start: datetime, now: datetime, stations: list[Station]):
    try:
        result = book(resident=ctx.resident, item=item, station=station, slot_start=start,
                      idempotency_key=_idempotency(ctx), now=now, **_chat_fields(ctx))
    except BookingError as exc:
        if exc.code in ("already_booked", "too_many"):
            ctx.end_flow()
            return ctx.reply(exc.message, "bookings.refused", reason=exc.code)
        intro = [("这个时间刚刚被约满了。" if exc.code == "slot_full" else exc.message)]
        return _offer(ctx, item, stations, now, intro=intro, handled_by="bookings.retry")
    ctx.end_flow()
    return ctx.reply(_confirmation(result.booking, now), "bookings.confirmed", booking_code=result.booking.code,
                     booking_id=result.booking.id)


def _do_reschedule(ctx, booking: Booking, station: Station, start: datetime, now: datetime,
                   stations: list[Station]):
    try:
        reschedule(booking, slot_start=start, resident=ctx.resident, station=station, now=now)
    except BookingError as exc:
        if exc.code in ("bad_state", "started", "not_found"):
            ctx.end_flow()
            return ctx.reply(exc.message, "bookings.refused", reason=exc.code)
        intro = [("这个时间刚刚被约满了。" if exc.code == "slot_full" else exc.message)]
        return _offer(ctx, booking.service_item, stations, now, intro=intro, mode="reschedule", booking=booking,
                      handled_by="bookings.retry")
    ctx.end_flow()
    return ctx.reply(_confirmation(booking, now, rescheduled=True), "bookings.rescheduled",
                     booking_code=booking.code, booking_id=booking.id)


def _not_for_residents(ctx):
    if ctx.resident is None:
        return ctx.reply("工作人员请在小程序“代办预约”里为居民登记预约。", "bookings.staff")
    return None


def _list_items(ctx, community_id: int, intro: str):
    from app.handlers.catalogue import items_for
    items = items_for(community_id)
    if not items:
        ctx.end_flow()
        return ctx.reply("本社区暂未开通代办预约服务，请直接联系社区居委会。", "bookings.no_catalogue")
    shown = items[:12]
    lines = [intro] + [f"{n}. {item.name}" for n, item in enumerate(shown, start=1)]
    lines.append("请回复序号或事项名称" + ("（其他事项直接说名称）" if len(items) > len(shown) else "") + "。")
    ctx.start_flow(FLOW, step="item", items=[i.key for i in shown], tries=0)
    return ctx.reply("\n".join(lines), "bookings.ask_item")


def handle_book(ctx):
    """Intent book_proxy: "想预约代办尊老金" → materials + numbered free slots (or straight to a
    booking when an exact free time was given); "改到周五" → reschedule."""
    refused = _not_for_residents(ctx)
    if refused is not None:
        return refused
    text = getattr(ctx.inbound, "text", None) or ""
    if RESCHEDULE_WORDS.search(text):
        reply = handle_reschedule(ctx)
        if reply is not None:
            return reply
    community = _community(ctx)
    if community is None:
        return ctx.reply("请在您所在社区的居民群里发起预约，或在小程序里绑定社区后预约。", "bookings.no_community")
    item = _item_for(ctx, community.id)
    if item is None:
        return _list_items(ctx, community.id, "请问您要预约代办哪一项？")
    return _start_booking(ctx, community, item)


def _start_booking(ctx, community: Community, item: ServiceItem):
    now = ctx.now
    stations = stations_for(community.id)
    if not stations:
        ctx.end_flow()
        phone = f"（电话 {community.phone}）" if community.phone else ""
        return ctx.reply(f"本社区暂未开通代办站预约，请直接联系社区居委会{phone}。", "bookings.no_station")
    existing = upcoming(ctx.resident.id, now=now, item_id=item.id)
    if existing:
        b = existing[0]
        ctx.end_flow()
        return ctx.reply(f"您已预约“{item.name}”：{slot_label(b.slot_start, b.slot_end, local_date(now))}，"
                         f"{b.station.name}，预约码 {b.code}。\n如需改时间，请说“改到周五下午”；"
                         f"取消请说“取消预约 {b.code}”。", "bookings.already", booking_code=b.code)
    when = merge_understanding(ctx, now)
    intro = [f"“{item.name}”可以由社区代办站全程代办。"] + _materials_lines(item)
    if when.invalid:
        intro.append(f"“{when.invalid}”不是有效的时间，请从下面选择，或说“明天上午9点”这样的时间。")
        return _offer(ctx, item, stations, now, intro=intro, handled_by="bookings.offer")
    if when.day is not None and when.clock is not None:
        exact = [s for s in _window_slots(stations, when, now)
                 if local(s.start).time() <= when.clock < local(s.end).time()]
        if exact:
            station = next(s for s in stations if s.id == exact[0].station_id)
            return _do_book(ctx, item, station, exact[0].start, now, stations)
    return _offer(ctx, item, stations, now, intro=intro, when=when, handled_by="bookings.offer")


def continue_flow(ctx):
    """The next message inside the booking flow: an item (step "item") or a slot pick (step "slot")."""
    refused = _not_for_residents(ctx)
    if refused is not None:
        ctx.end_flow()
        return refused
    state = ctx.state or {}
    community = _community(ctx)
    if community is None:
        ctx.end_flow()
        return ctx.reply("请在您所在社区的居民群里发起预约，或在小程序里绑定社区后预约。", "bookings.no_community")
    text = getattr(ctx.inbound, "text", None) or ""
    if state.get("step") == "item":
        from app.handlers.catalogue import find_item
        choice = parse_choice(text)
        keys = state.get("items") or []
        item = None
        if choice is not None and 1 <= choice <= len(keys):
            item = find_item(community.id, keys[choice - 1])
        item = item or _item_for(ctx, community.id)
        if item is None or not item.active:
            return _retry(ctx, state, "没有找到这个事项。请回复上面列表中的序号，或说事项名称（如“尊老金”）。")
        return _start_booking(ctx, community, item)
    if state.get("step") == "slot":
        return _pick_slot(ctx, state, community)
    ctx.end_flow()
    return handle_book(ctx)


def _retry(ctx, state: dict[str, Any], message: str):
    tries = int(state.get("tries", 0)) + 1
    if tries >= MAX_TRIES:
        ctx.end_flow()
        return ctx.reply("好的，先不预约了。需要时请再说“预约代办”加事项名称。", "bookings.gave_up")
    data = {k: v for k, v in state.items() if k != "flow"}
    data["tries"] = tries
    ctx.start_flow(FLOW, **data)
    return ctx.reply(message, "bookings.retry_prompt")


def _pick_slot(ctx, state: dict[str, Any], community: Community):
    from app.handlers.catalogue import find_item
    now = ctx.now
    item = find_item(community.id, state.get("item") or "")
    stations = stations_for(community.id)
    if item is None or not item.active or not stations:
        ctx.end_flow()
        return ctx.reply("该事项暂不能预约，请稍后再试或联系社区。", "bookings.unavailable")
    booking = None
    if state.get("mode") == "reschedule":
        booking = db.session.get(Booking, state.get("booking_id") or 0)
        if booking is None or booking.resident_id != ctx.resident.id:
            ctx.end_flow()
            return ctx.reply("没有找到要改期的预约。", "bookings.not_found")
    offers = state.get("offers") or []
    text = getattr(ctx.inbound, "text", None) or ""
    choice = parse_choice(text)
    by_id = {s.id: s for s in stations}
    if choice is not None:
        if not 1 <= choice <= len(offers):
            return _retry(ctx, state, f"请回复1到{len(offers)}之间的序号，或直接说时间（如“周五下午”）。")
        ref = offers[choice - 1]
        station = by_id.get(ref["station_id"])
        start = datetime.fromisoformat(ref["start"])
        if station is None:
            return _offer(ctx, item, stations, now, intro=["该代办站已停止预约。"], mode=state.get("mode", "book"),
                          booking=booking, handled_by="bookings.retry")
        if booking is not None:
            return _do_reschedule(ctx, booking, station, start, now, stations)
        return _do_book(ctx, item, station, start, now, stations)
    when = merge_understanding(ctx, now)
    if when.invalid:
        return _retry(ctx, state, f"“{when.invalid}”不是有效的时间。请回复序号，或说“明天上午9点”“周五下午”这样的时间。")
    if not when.given:
        return _retry(ctx, state, "没听明白您选的时间。请回复序号，或说“明天上午”“周五下午3点”这样的时间。")
    candidates = _window_slots(stations, when, now)
    if when.clock is not None:
        candidates = [s for s in candidates if local(s.start).time() <= when.clock < local(s.end).time()] or []
    if not candidates:
        return _offer(ctx, item, stations, now, intro=[f"{_why_not(stations, when, now)}。"], when=None,
                      mode=state.get("mode", "book"), booking=booking, handled_by="bookings.retry")
    slot = candidates[0]
    if booking is not None:
        return _do_reschedule(ctx, booking, by_id[slot.station_id], slot.start, now, stations)
    return _do_book(ctx, item, by_id[slot.station_id], slot.start, now, stations)


def _target_bookings(ctx, now: datetime) -> tuple[list[Booking], str | None]:
    """The resident's bookings the message refers to: by code, else by item/date. (bookings, code)"""
    text = getattr(ctx.inbound, "text", None) or ""
    code = code_from_text(text)
    if code is not None:
        booking = booking_by_code(code)
        if booking is None or booking.resident_id != ctx.resident.id:
            return [], code
        return [booking], code
    bookings = upcoming(ctx.resident.id, now=now)
    if not bookings:
        return [], None
    community_id = bookings[0].community_id
    item = _item_for(ctx, community_id)
    if item is not None:
        bookings = [b for b in bookings if b.service_item_id == item.id]
    return bookings, None


def handle_reschedule(ctx):
    """"改到周五下午" / "D7K3Q9 改到明天上午9点": move the resident's booking."""
    refused = _not_for_residents(ctx)
    if refused is not None:
        return refused
    now = ctx.now
    bookings, code = _target_bookings(ctx, now)
    if code is not None and not bookings:
        return ctx.reply(f"没有找到您名下预约码为 {code} 的预约，请核对后再试。", "bookings.not_found")
    bookings = [b for b in bookings if b.status == BookingStatus.CONFIRMED.value]
    if not bookings:
        return None
    if len(bookings) > 1:
        lines = ["您有多个代办预约，请说明改哪一个，例如“{} 改到周五下午”：".format(bookings[0].code)]
        lines += [f"· {b.code} {b.service_item.name} {slot_label(b.slot_start, None, local_date(now))}"
                  for b in bookings]
        return ctx.reply("\n".join(lines), "bookings.which")
    booking = bookings[0]
    stations = stations_for(booking.community_id)
    when = merge_understanding(ctx, now)
    intro = [f"您预约的“{booking.service_item.name}”原定{slot_label(booking.slot_start, None, local_date(now))}"
             f"（预约码 {booking.code}）。"]
    if when.invalid:
        intro.append(f"“{when.invalid}”不是有效的时间。")
        return _offer(ctx, booking.service_item, stations, now, intro=intro, mode="reschedule", booking=booking,
                      handled_by="bookings.reschedule_offer")
    if when.day is not None and when.clock is not None:
        exact = [s for s in _window_slots(stations, when, now)
                 if local(s.start).time() <= when.clock < local(s.end).time()]
        if exact:
            station = next(s for s in stations if s.id == exact[0].station_id)
            return _do_reschedule(ctx, booking, station, exact[0].start, now, stations)
    if not when.given:
        intro.append("请问改到什么时候？")
    return _offer(ctx, booking.service_item, stations, now, intro=intro, when=when, mode="reschedule",
                  booking=booking, handled_by="bookings.reschedule_offer")


def handle_cancel(ctx):
    """CANCEL_HANDLERS: "明天的预约取消吧" / "取消预约 D7K3Q9". None when nothing of ours matches."""
    if ctx.resident is None:
        return None
    text = getattr(ctx.inbound, "text", None) or ""
    now = ctx.now
    code = code_from_text(text)
    if code is None and EVENT_WORDS.search(text) and not re.search(r"代办|预约", text):
        return None  # an event signup: the events handler's business
    if RESCHEDULE_WORDS.search(text):
        return handle_reschedule(ctx)
    bookings, code = _target_bookings(ctx, now)
    if code is not None and not bookings:
        return ctx.reply(f"没有找到您名下预约码为 {code} 的预约，请核对后再试。", "bookings.not_found")
    if code is not None:
        booking = bookings[0]
        if booking.status != BookingStatus.CONFIRMED.value:
            return ctx.reply(f"预约 {booking.code}（{booking.service_item.name}）{BOOKING_STATUS_LABELS[booking.status]}，"
                             f"无需取消。", "bookings.cancel_noop")
    else:
        if not bookings:
            return None
        when = merge_understanding(ctx, now)
        item_named = _item_for(ctx, bookings[0].community_id) is not None
        if not (re.search(r"代办|预约", text) or when.day is not None or item_named):
            # A bare "取消" could mean anything (the router ends flows on it): never cancel on a guess.
            lines = ["您要取消代办预约吗？请回复“取消预约 预约码”确认："]
            lines += [f"· {b.code} {b.service_item.name} {slot_label(b.slot_start, None, local_date(now))}"
                      for b in bookings]
            return ctx.reply("\n".join(lines), "bookings.cancel_confirm")
        if when.day is not None:
            on_day = [b for b in bookings if local_date(b.slot_start) == when.day]
            if not on_day:
                return ctx.reply(f"您{day_label(when.day, local_date(now))}没有代办预约。", "bookings.cancel_none")
            bookings = on_day
        if len(bookings) > 1:
            lines = ["您有多个代办预约，请回复“取消预约 预约码”："]
            lines += [f"· {b.code} {b.service_item.name} {slot_label(b.slot_start, None, local_date(now))}"
                      for b in bookings]
            return ctx.reply("\n".join(lines), "bookings.which")
        booking = bookings[0]
    try:
        cancel_booking(booking, by="resident", resident=ctx.resident, now=now)
    except BookingError as exc:
        return ctx.reply(exc.message, "bookings.cancel_refused", reason=exc.code)
    if (ctx.state or {}).get("flow") == FLOW:
        ctx.end_flow()
    return ctx.reply(f"已取消您{slot_label(booking.slot_start, None, local_date(now))}的“{booking.service_item.name}”"
                     f"代办预约（预约码 {booking.code}）。需要时可再说“预约代办{booking.service_item.name}”。",
                     "bookings.cancelled", booking_code=booking.code)


def progress_lines(ctx) -> list[str]:
    """PROGRESS_SOURCES: the resident's upcoming bookings and cases ("我的尊老金办到哪了")."""
    from app.handlers.cases import progress_text, resident_cases
    if ctx.resident is None:
        return []
    now = ctx.now
    today = local_date(now)
    item_id = None
    community_id = ctx.community_id or ctx.resident.community_id
    if community_id is not None:
        item = _item_for(ctx, community_id)
        item_id = item.id if item is not None else None
    lines = []
    for b in upcoming(ctx.resident.id, now=now, item_id=item_id):
        lines.append(f"代办预约 {b.code}：{b.service_item.name}，{slot_label(b.slot_start, b.slot_end, today)}，"
                     f"{b.station.name}。")
    checked_in = db.session.scalars(select(Booking).where(
        Booking.resident_id == ctx.resident.id, Booking.status == BookingStatus.CHECKED_IN.value,
        *([Booking.service_item_id == item_id] if item_id else []))).all()
    for b in checked_in:
        lines.append(f"{b.service_item.name}（预约码 {b.code}）：已签到，工作人员正在受理材料。")
    for case in resident_cases(ctx.resident.id, item_id=item_id):
        lines.append(progress_text(case))
    return lines


def _service_terms(community_id: int | None) -> list:
    from app.handlers.catalogue import service_terms
    return service_terms(community_id)


def _describe_item(ctx) -> str | None:
    from app.handlers.catalogue import describe_item
    return describe_item(ctx)


CHAT = ChatFeature(
    intents={"book_proxy": handle_book},
    flows={"book_proxy": continue_flow},
    progress=progress_lines,
    cancel=handle_cancel,
    vocabulary={"services": _service_terms},
    info=_describe_item,
)
