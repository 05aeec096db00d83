"""Proxy-handling (代办): the service catalogue, stations with their working plans, bookings and cases.

A community runs one or more proxy-handling stations (政务代办站). Residents book a
slot at a station for a catalogue item (尊老金, 低保申请, ...); after the visit the
booking becomes a case (限时办理) whose progress is public (公开进度).

Free slots are *computed* from the station's weekly plan, its closures and the
working-day calendar (app/handlers/proxy/availability.py); only the load of slots that have
bookings is stored (``SlotLoad``), and that row is what makes overbooking
impossible (see ``SlotLoad``).
"""
from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.audit import make_append_only
from app.models.base import Base, BigId, IdMixin, TimestampMixin, utcnow


class ServiceItem(IdMixin, TimestampMixin, Base):
    """One item of a community's proxy-handling catalogue (代办事项).

    ``key`` is a slug that is the same in every community ("zunlaojin"), so the
    bot, the default catalogue file and imports can refer to an item without
    knowing its id.
    """

    __tablename__ = "service_item"
    __table_args__ = (UniqueConstraint("community_id", "key"),)

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    key: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(100))
    # Names residents use for it (高龄津贴, 老年津贴 for 尊老金): the bot matches them.
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    # 材料清单: what to bring, one entry per document.
    materials: Mapped[list[str]] = mapped_column(JSON, default=list)
    department: Mapped[Optional[str]] = mapped_column(String(100))
    # 办理时限: working days from submission to result (the case deadline).
    time_limit_workdays: Mapped[int] = mapped_column(Integer, default=10)
    eligibility: Mapped[Optional[str]] = mapped_column(Text)
    # The applicant must come in person (photo, signature, fingerprint, assessment);
    # when False a family member may bring the materials on their behalf.
    visit_required: Mapped[bool] = mapped_column(Boolean, default=True)
    notes: Mapped[Optional[str]] = mapped_column(Text)
    sort_order: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[Optional[datetime]]

    @property
    def names(self) -> list[str]:
        seen: list[str] = []
        for name in [self.name, *(self.aliases or [])]:
            if name and name not in seen:
                seen.append(name)
        return seen

    def public_view(self) -> dict[str, Any]:
        return {"id": self.id, "community_id": self.community_id, "key": self.key, "name": self.name,
                "aliases": list(self.aliases or []), "materials": list(self.materials or []),
                "department": self.department, "time_limit_workdays": self.time_limit_workdays,
                "eligibility": self.eligibility, "visit_required": self.visit_required,
                "notes": self.notes, "sort_order": self.sort_order, "active": self.active}


class Station(IdMixin, TimestampMixin, Base):
    """A proxy-handling station (代办站) with a weekly working plan."""

    __tablename__ = "station"
    __table_args__ = (
        UniqueConstraint("community_id", "name"),
        CheckConstraint("slot_minutes >= 5 AND slot_minutes <= 240", name="slot_length"),
        CheckConstraint("capacity >= 1", name="positive_capacity"),
    )

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[Optional[str]] = mapped_column(String(200))
    # A service number shown to residents (not a person's mobile).
    phone: Mapped[Optional[str]] = mapped_column(String(30))
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30)
    # Residents served at once in one slot: normally the number of staff at the counter.
    capacity: Mapped[int] = mapped_column(Integer, default=2)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[Optional[datetime]]

    hours: Mapped[list["StationHours"]] = relationship(
        back_populates="station", cascade="all, delete-orphan", lazy="selectin",
        order_by="(StationHours.weekday, StationHours.opens)")


# StationHours.weekday: 0 = Monday … 6 = Sunday (datetime.weekday()), and MAKEUP_WEEKDAY
# for the plan used on make-up working days (调休上班日, e.g. a Saturday that is worked).
MAKEUP_WEEKDAY = 7


class StationHours(IdMixin, Base):
    """One open interval of a station's weekly plan.

    A day with a lunch break has two rows (08:30–11:30, 14:00–17:30): the break
    is the gap between them. ``capacity`` overrides the station's capacity for
    the interval (fewer staff on Saturday mornings).
    """

    __tablename__ = "station_hours"
    __table_args__ = (
        UniqueConstraint("station_id", "weekday", "opens"),
        CheckConstraint("weekday >= 0 AND weekday <= 7", name="weekday_range"),
        CheckConstraint("closes > opens", name="positive_length"),
    )

    station_id: Mapped[int] = mapped_column(BigId, ForeignKey("station.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)
    capacity: Mapped[Optional[int]] = mapped_column(Integer)

    station: Mapped[Station] = relationship(back_populates="hours")


class StationClosure(IdMixin, TimestampMixin, Base):
    """A date an admin blocked (staff training, renovation, an election day...)."""

    __tablename__ = "station_closure"
    __table_args__ = (UniqueConstraint("station_id", "day"),)

    station_id: Mapped[int] = mapped_column(BigId, ForeignKey("station.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[Optional[str]] = mapped_column(String(200))
    created_by_staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"))


class SlotLoad(Base):
    """How many places of one slot are taken: the row that enforces capacity.

    Booking does, in ONE transaction:
      1. ``INSERT (station_id, slot_start, booked=0) ON CONFLICT DO NOTHING`` — the
         row exists afterwards whoever created it (PostgreSQL and SQLite both
         support this form);
      2. ``UPDATE slot_load SET booked = booked + 1 WHERE ... AND booked < :capacity``
         — one row updated means a place was taken, none means the slot is full;
      3. insert the booking, commit.
    The check and the increment are one statement evaluated under the row's
    write lock: on PostgreSQL concurrent updaters of the row queue on its lock
    and re-evaluate ``booked < capacity`` on the committed value; on SQLite the
    database allows one writer at a time, so the statement always sees the
    latest count. A read-then-insert (what Easy!Appointments and Cal.com do)
    cannot overbook here because nothing is decided outside that statement.
    We chose this over ``SELECT … FOR UPDATE`` because it needs no dialect-
    specific locking: SQLite has no FOR UPDATE, and both paths would otherwise
    have to be tested separately.
    """

    __tablename__ = "slot_load"
    __table_args__ = (CheckConstraint("booked >= 0", name="non_negative"),)

    station_id: Mapped[int] = mapped_column(BigId, ForeignKey("station.id", ondelete="CASCADE"), primary_key=True)
    slot_start: Mapped[datetime] = mapped_column(primary_key=True)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class BookingStatus(str, enum.Enum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    CHECKED_IN = "checked_in"
    NO_SHOW = "no_show"
    COMPLETED = "completed"


BOOKING_STATUS_LABELS = {
    BookingStatus.CONFIRMED.value: "已预约", BookingStatus.CANCELLED.value: "已取消",
    BookingStatus.CHECKED_IN.value: "已签到", BookingStatus.NO_SHOW.value: "未到",
    BookingStatus.COMPLETED.value: "已受理",
}


class Booking(IdMixin, TimestampMixin, Base):
    """A resident's appointment at a station for one catalogue item."""

    __tablename__ = "booking"
    __table_args__ = (
        Index("ix_booking_station_slot", "station_id", "slot_start"),
        Index("ix_booking_resident_status", "resident_id", "status"),
        CheckConstraint("slot_end > slot_start", name="positive_length"),
    )

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    station_id: Mapped[int] = mapped_column(BigId, ForeignKey("station.id"))
    service_item_id: Mapped[int] = mapped_column(BigId, ForeignKey("service_item.id"), index=True)
    resident_id: Mapped[int] = mapped_column(BigId, ForeignKey("resident.id"))
    slot_start: Mapped[datetime]
    slot_end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default=BookingStatus.CONFIRMED.value)
    # What the resident quotes to cancel or at the counter ("D7K3Q9").
    code: Mapped[str] = mapped_column(String(12), unique=True)
    # Scoped by resident ("r42:<client key>") so two residents' keys never collide.
    idempotency_key: Mapped[str] = mapped_column(String(191), unique=True)
    source: Mapped[str] = mapped_column(String(20), default="api")  # chat | api | staff
    # Where reminders go: the channel and the resident's id on it (openid, external userid...).
    channel: Mapped[Optional[str]] = mapped_column(String(20))
    recipient_id: Mapped[Optional[str]] = mapped_column(String(128))
    chat_id: Mapped[Optional[str]] = mapped_column(String(128))
    group_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("resident_group.id"))
    note: Mapped[Optional[str]] = mapped_column(String(500))
    cancelled_at: Mapped[Optional[datetime]]
    cancelled_by: Mapped[Optional[str]] = mapped_column(String(20))  # resident | staff | system
    cancel_reason: Mapped[Optional[str]] = mapped_column(String(200))
    checked_in_at: Mapped[Optional[datetime]]
    checked_in_by_staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"))
    no_show_at: Mapped[Optional[datetime]]
    completed_at: Mapped[Optional[datetime]]
    handed_over_to_staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"))
    handed_over_at: Mapped[Optional[datetime]]
    # Set when the reminder for the current slot has been queued (reset on reschedule).
    reminded_day_before_at: Mapped[Optional[datetime]]
    reminded_hour_before_at: Mapped[Optional[datetime]]
    reschedule_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[Optional[datetime]]

    station: Mapped[Station] = relationship(lazy="joined")
    service_item: Mapped[ServiceItem] = relationship(lazy="joined")


class CaseStatus(str, enum.Enum):
    SUBMITTED = "submitted"   # 已受理: materials received at the station
    FORWARDED = "forwarded"   # 已转交: sent to the department
    APPROVED = "approved"     # 已审批通过
    REJECTED = "rejected"     # 未通过
    DONE = "done"             # 已办结: the resident has the result


CASE_STATUS_LABELS = {
    CaseStatus.SUBMITTED.value: "已受理", CaseStatus.FORWARDED.value: "已转交部门",
    CaseStatus.APPROVED.value: "审批通过", CaseStatus.REJECTED.value: "未通过",
    CaseStatus.DONE.value: "已办结",
}

# Allowed transitions. submitted → rejected lets the station turn down an
# application that is plainly ineligible without bothering the department.
CASE_TRANSITIONS: dict[str, set[str]] = {
    CaseStatus.SUBMITTED.value: {CaseStatus.FORWARDED.value, CaseStatus.REJECTED.value},
    CaseStatus.FORWARDED.value: {CaseStatus.APPROVED.value, CaseStatus.REJECTED.value},
    CaseStatus.APPROVED.value: {CaseStatus.DONE.value},
    CaseStatus.REJECTED.value: {CaseStatus.DONE.value},
    CaseStatus.DONE.value: set(),
}


class Case(IdMixin, TimestampMixin, Base):
    """A proxy-handling case (代办件): handled within a time limit, progress public."""

    __tablename__ = "proxy_case"

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    booking_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("booking.id"), unique=True)
    service_item_id: Mapped[int] = mapped_column(BigId, ForeignKey("service_item.id"), index=True)
    resident_id: Mapped[int] = mapped_column(BigId, ForeignKey("resident.id"), index=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=CaseStatus.SUBMITTED.value, index=True)
    # 明确专人: the named staff member answerable for it.
    responsible_staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"), index=True)
    department: Mapped[Optional[str]] = mapped_column(String(100))
    # 限时办理: end of the N-th working day after submission (app/workcal.py).
    due_at: Mapped[datetime] = mapped_column(index=True)
    forwarded_at: Mapped[Optional[datetime]]
    decided_at: Mapped[Optional[datetime]]
    done_at: Mapped[Optional[datetime]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The last note staff wrote on a transition (the full history is in CaseEvent).
    note: Mapped[Optional[str]] = mapped_column(String(500))
    overdue_alerted_at: Mapped[Optional[datetime]]

    service_item: Mapped[ServiceItem] = relationship(lazy="joined")


class CaseEvent(IdMixin, Base):
    """One step of a case's timeline: who did what when. Append-only."""

    __tablename__ = "proxy_case_event"

    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("proxy_case.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(30))  # created, forwarded, approved, rejected, done, assigned, overdue, deadline_changed
    from_status: Mapped[Optional[str]] = mapped_column(String(20))
    to_status: Mapped[Optional[str]] = mapped_column(String(20))
    staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"))
    note: Mapped[Optional[str]] = mapped_column(String(500))
    detail: Mapped[Optional[dict[str, Any]]]


make_append_only(CaseEvent.__table__)
