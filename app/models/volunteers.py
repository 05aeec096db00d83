"""The volunteer registry (双报到): members, projects, hours and micro-wishes (微心愿).

A ``PartyMember`` is an in-service party member reporting to the community or a
registered volunteer. ``HoursEntry`` is append-only; a correction is a new
(negative) admin entry with a note, never an edit. Events and sign-ups, which
credit hours at check-out, are in ``app.models.events``.
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Optional

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.audit import make_append_only, refuse_orm_changes
from app.models.base import Base, BigId, IdMixin, TimestampMixin, utcnow


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
refuse_orm_changes(HoursEntry)


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
