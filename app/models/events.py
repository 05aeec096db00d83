"""Events, sign-ups with a waiting list, check-in, and volunteer hours (双报到).

Recurrence: a weekly event is a *series head* — an ordinary ``Event`` row with
``recurrence="weekly"`` that is also the first occurrence. Later occurrences
are materialised ahead of time as their own ``Event`` rows (``series_id`` →
the head; unique per start time, so materialising twice is harmless) by
``app.handlers.events.materialise_series`` (on create/publish and by the
periodic sweep). Each occurrence has its own capacity, sign-ups, waiting list,
reminders and check-ins, which is what a weekly free health check needs:
"this Tuesday is full" says nothing about next Tuesday.

Capacity: every event has one ``EventCapacity`` counter row. All changes to an
event's sign-ups first update that row (a row lock on PostgreSQL, the write
lock on SQLite), and a place is taken with a conditional update
(``confirmed < capacity``) inside the same transaction, so concurrent sign-ups
never oversell.

Hours: ``HoursEntry`` is append-only; a correction is a new (negative) admin
entry with a note, never an edit. Check-in records are append-only too.
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Optional

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.audit import AppendOnlyError, make_append_only
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


class MemberKind(str, enum.Enum):
    PARTY = "party"          # 在职党员 reporting to the community (双报到)
    VOLUNTEER = "volunteer"  # a registered volunteer who is not a reporting party member


class HoursKind(str, enum.Enum):
    CHECKIN = "checkin"  # from check-in/check-out at an event
    ADMIN = "admin"      # entered by the organiser (谁组织谁记录)


class WishStatus(str, enum.Enum):
    OPEN = "open"
    CLAIMED = "claimed"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


class VolunteerProject(IdMixin, TimestampMixin, Base):
    """志愿服务项目: what a reporting party member chooses to serve in (at least one a year)."""

    __tablename__ = "volunteer_project"
    __table_args__ = (UniqueConstraint("community_id", "name"),)

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[Optional[str]] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)

    def view(self) -> dict:
        return {"id": self.id, "community_id": self.community_id, "name": self.name,
                "description": self.description, "active": self.active}


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


class PartyMember(IdMixin, Base):
    """A member of the community's volunteer registry: an in-service party member (双报到) or a volunteer."""

    __tablename__ = "party_member"
    __table_args__ = (
        UniqueConstraint("community_id", "resident_id"),
        UniqueConstraint("community_id", "phone"),
    )

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    resident_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("resident.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default=MemberKind.PARTY.value)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[Optional[str]] = mapped_column(String(30))
    work_unit: Mapped[Optional[str]] = mapped_column(String(200))   # 工作单位
    party_org: Mapped[Optional[str]] = mapped_column(String(200))   # 所在党组织
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    registered_by_staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"))
    active: Mapped[bool] = mapped_column(default=True)

    projects: Mapped[list["MemberProject"]] = relationship(back_populates="member", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<PartyMember {self.id}>"


class MemberProject(IdMixin, Base):
    """A project a member chose for a year (每年至少选择参加1个志愿服务项目)."""

    __tablename__ = "member_project"
    __table_args__ = (UniqueConstraint("member_id", "project_id", "year"),)

    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("party_member.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(BigId, ForeignKey("volunteer_project.id"), index=True)
    year: Mapped[int]
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[PartyMember] = relationship(back_populates="projects")
    project: Mapped[VolunteerProject] = relationship()


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


class HoursEntry(IdMixin, Base):
    """Volunteer hours (append-only; corrections are new admin entries with negative minutes)."""

    __tablename__ = "hours_entry"
    __table_args__ = (
        Index("ix_hours_entry_member_year", "member_id", "year"),
        Index("ix_hours_entry_community_year", "community_id", "year"),
    )

    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("party_member.id"))
    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"))
    event_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("event.id"), index=True)
    # Set for check-in hours: one entry per attended sign-up.
    signup_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("signup.id"), unique=True)
    project_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("volunteer_project.id"))
    kind: Mapped[str] = mapped_column(String(20))
    minutes: Mapped[int]
    served_on: Mapped[date]
    year: Mapped[int]
    recorded_by_staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"))
    note: Mapped[Optional[str]] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 2)


make_append_only(HoursEntry.__table__)


def _refuse_change(mapper, connection, target):
    raise AppendOnlyError(f"{target.__tablename__} is append-only")


# The ORM refuses too, before the database triggers would.
for _model in (CheckIn, HoursEntry):
    sa_event.listen(_model, "before_update", _refuse_change)
    sa_event.listen(_model, "before_delete", _refuse_change)


class MicroWish(IdMixin, TimestampMixin, Base):
    """微心愿: a resident's small wish that a registered member claims and fulfils."""

    __tablename__ = "micro_wish"

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    resident_id: Mapped[int] = mapped_column(BigId, ForeignKey("resident.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    detail: Mapped[Optional[str]] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=WishStatus.OPEN.value, index=True)
    member_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("party_member.id"), index=True)
    claimed_at: Mapped[Optional[datetime]]
    fulfilled_at: Mapped[Optional[datetime]]
    fulfil_note: Mapped[Optional[str]] = mapped_column(String(500))
    cancelled_at: Mapped[Optional[datetime]]
