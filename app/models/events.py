"""Events, sign-ups with a waiting list, and check-in (the volunteer registry: app.models.volunteers).

Recurrence: a weekly event is a *series head* — an ordinary ``Event`` row with
``recurrence="weekly"`` that is also the first occurrence. Later occurrences
are materialised ahead of time as their own ``Event`` rows (``series_id`` →
the head; unique per start time, so materialising twice is harmless) by
``app.handlers.events.series.materialise_series`` (on create/publish and by the
periodic sweep). Each occurrence has its own capacity, sign-ups, waiting list,
reminders and check-ins, which is what a weekly free health check needs:
"this Tuesday is full" says nothing about next Tuesday.

Capacity: every event has one ``EventCapacity`` counter row. All changes to an
event's sign-ups first update that row (a row lock on PostgreSQL, the write
lock on SQLite), and a place is taken with a conditional update
(``confirmed < capacity``) inside the same transaction, so concurrent sign-ups
never oversell.

Check-in records are append-only, like the volunteer hours they credit.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.audit import make_append_only, refuse_orm_changes
from app.models.base import Base, BigId, IdMixin, TimestampMixin, utcnow


class EventKind(str, enum.Enum):
    VOLUNTEER = "volunteer"            # 志愿服务
    HEALTH_CHECK = "health_check"      # 义诊 / 健康检查
    CLASS = "class"                    # 课堂 (四点半课堂), 讲座, 培训
    MEETING = "meeting"                # 议事会 (党群议事会, 四方五步议事)
    PARTY_DAY = "party_day"            # 主题党日
    CULTURE_SPORTS = "culture_sports"  # 文体活动


EVENT_KIND_LABELS = {
    EventKind.VOLUNTEER.value: "志愿服务", EventKind.HEALTH_CHECK.value: "义诊",
    EventKind.CLASS.value: "课堂", EventKind.MEETING.value: "议事会",
    EventKind.PARTY_DAY.value: "主题党日", EventKind.CULTURE_SPORTS.value: "文体活动",
}


class Audience(str, enum.Enum):
    EVERYONE = "everyone"
    PARTY_MEMBERS = "party_members"  # registered in-service party members (在职党员)
    VOLUNTEERS = "volunteers"        # anyone in the community's member registry (party members and volunteers)


AUDIENCE_LABELS = {"everyone": "全体居民", "party_members": "报到党员", "volunteers": "注册志愿者"}


class EventStatus(str, enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class Recurrence(str, enum.Enum):
    NONE = "none"
    WEEKLY = "weekly"


class SignupStatus(str, enum.Enum):
    CONFIRMED = "confirmed"
    WAITING = "waiting"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    ABSENT = "absent"


# Statuses that hold a place (count against capacity).
PLACE_HOLDING = (SignupStatus.CONFIRMED.value, SignupStatus.ATTENDED.value)
ACTIVE_SIGNUP = (SignupStatus.CONFIRMED.value, SignupStatus.WAITING.value)


class Event(IdMixin, TimestampMixin, Base):
    __tablename__ = "event"
    __table_args__ = (
        UniqueConstraint("series_id", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("volunteer_minutes >= 0", name="volunteer_minutes_not_negative"),
        Index("ix_event_community_starts", "community_id", "starts_at"),
    )

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    # The head of the weekly series this occurrence belongs to (None for a head or a one-off).
    series_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("event.id"), index=True)
    project_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("volunteer_project.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    description: Mapped[Optional[str]] = mapped_column(Text)
    place: Mapped[Optional[str]] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    recurrence: Mapped[str] = mapped_column(String(20), default=Recurrence.NONE.value)
    recurrence_until: Mapped[Optional[datetime]]
    capacity: Mapped[Optional[int]]  # None: no limit
    signup_deadline: Mapped[Optional[datetime]]  # None: until the start
    audience: Mapped[str] = mapped_column(String(30), default=Audience.EVERYONE.value)
    volunteer_minutes: Mapped[int] = mapped_column(default=0)  # hours credited to members who attend
    # Other names residents use for it ("义诊", "体检"), for the bot.
    aliases: Mapped[Optional[list[str]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default=EventStatus.DRAFT.value, index=True)
    published_at: Mapped[Optional[datetime]]
    announced_at: Mapped[Optional[datetime]]
    cancelled_at: Mapped[Optional[datetime]]
    cancel_reason: Mapped[Optional[str]] = mapped_column(String(200))
    # When the sweep marked the confirmed-but-never-checked-in sign-ups absent.
    closed_at: Mapped[Optional[datetime]]
    created_by_staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"))
    updated_at: Mapped[Optional[datetime]] = mapped_column(default=utcnow, onupdate=utcnow)

    counter: Mapped["EventCapacity"] = relationship(back_populates="event", uselist=False,
                                                    cascade="all, delete-orphan")

    @property
    def is_series_head(self) -> bool:
        return self.recurrence == Recurrence.WEEKLY.value and self.series_id is None

    @property
    def deadline(self) -> datetime:
        return self.signup_deadline or self.starts_at

    @property
    def volunteer_hours(self) -> float:
        return round(self.volunteer_minutes / 60, 2)

    def names(self) -> list[str]:
        seen: list[str] = []
        for name in [self.title, *(self.aliases or [])]:
            name = (name or "").strip()
            if name and name not in seen:
                seen.append(name)
        return seen

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.title} {self.starts_at:%Y-%m-%d %H:%M}>"


class EventCapacity(Base):
    """The counter every sign-up change goes through (see the module docstring)."""

    __tablename__ = "event_capacity"
    __table_args__ = (
        CheckConstraint("confirmed >= 0", name="confirmed_not_negative"),
        CheckConstraint("capacity IS NULL OR confirmed <= capacity", name="not_oversold"),
    )

    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("event.id", ondelete="CASCADE"), primary_key=True)
    capacity: Mapped[Optional[int]]
    confirmed: Mapped[int] = mapped_column(default=0)   # places taken (confirmed + attended)
    waiting_seq: Mapped[int] = mapped_column(default=0)  # last waiting-list ticket handed out
    lock_version: Mapped[int] = mapped_column(default=0)  # bumped to take the lock

    event: Mapped[Event] = relationship(back_populates="counter")

    @property
    def places_left(self) -> int | None:
        if self.capacity is None:
            return None
        return max(self.capacity - self.confirmed, 0)


class Signup(IdMixin, TimestampMixin, Base):
    """One person's place (or waiting ticket) at one event; re-signing up reuses the row."""

    __tablename__ = "signup"
    __table_args__ = (
        UniqueConstraint("event_id", "resident_id"),
        UniqueConstraint("event_id", "member_id"),
        CheckConstraint("resident_id IS NOT NULL OR member_id IS NOT NULL", name="has_person"),
        Index("ix_signup_event_status_position", "event_id", "status", "position"),
    )

    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("event.id", ondelete="CASCADE"), index=True)
    resident_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("resident.id"), index=True)
    member_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("party_member.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    # Waiting-list ticket (ascending = earlier); kept after promotion for the record.
    position: Mapped[Optional[int]]
    idempotency_key: Mapped[Optional[str]] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(20), default="api")  # chat | api | staff
    # Where notices (promotion, reminder, cancellation) go.
    notify_channel: Mapped[Optional[str]] = mapped_column(String(20))
    notify_kind: Mapped[Optional[str]] = mapped_column(String(10))   # user | group
    notify_recipient: Mapped[Optional[str]] = mapped_column(String(128))
    notify_group_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("resident_group.id"))
    confirmed_at: Mapped[Optional[datetime]]
    promoted_at: Mapped[Optional[datetime]]
    promotions: Mapped[int] = mapped_column(default=0)
    cancelled_at: Mapped[Optional[datetime]]
    reminded_at: Mapped[Optional[datetime]]
    checked_in_at: Mapped[Optional[datetime]]
    checked_out_at: Mapped[Optional[datetime]]
    updated_at: Mapped[Optional[datetime]] = mapped_column(default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship()

    def __repr__(self) -> str:
        return f"<Signup {self.id} event={self.event_id} {self.status}>"


class CheckIn(IdMixin, Base):
    """A check-in or check-out (append-only). ``nonce`` is unique: a re-sent scan is recorded once."""

    __tablename__ = "event_checkin"
    __table_args__ = (UniqueConstraint("signup_id", "kind"),)

    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("event.id", ondelete="CASCADE"), index=True)
    signup_id: Mapped[int] = mapped_column(BigId, ForeignKey("signup.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(3))       # in | out
    method: Mapped[str] = mapped_column(String(10))    # code | list
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"))


make_append_only(CheckIn.__table__)
refuse_orm_changes(CheckIn)
