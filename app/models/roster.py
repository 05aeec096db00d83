"""The 24-hour duty roster (24小时轮班值守)."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, BigId, IdMixin, TimestampMixin
from app.models.people import Staff


class DutyShift(IdMixin, TimestampMixin, Base):
    """One staff member on duty for a community from ``starts_at`` (inclusive) to ``ends_at`` (exclusive).

    Half-open intervals let a shift end at midnight exactly where the next one
    starts, so shift changes never open a gap.
    """

    __tablename__ = "duty_shift"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="positive_length"),
        Index("ix_duty_shift_window", "community_id", "starts_at", "ends_at"),
    )

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    # The duty lead (值班长) is alerted, with the admin, when a reply deadline is missed.
    is_lead: Mapped[bool] = mapped_column(default=False)
    note: Mapped[Optional[str]] = mapped_column(String(200))

    staff: Mapped[Staff] = relationship(lazy="joined")


class ShiftSwap(IdMixin, TimestampMixin, Base):
    """A recorded swap (换班) or cover (代班); the shifts themselves carry the new staff.

    Swapping two shifts exchanges their staff; giving a shift to another staff
    member (``shift_b_id`` NULL) replaces its staff. Rows are never changed, so
    the roster's history stays readable ("who was really on duty that night").
    """

    __tablename__ = "shift_swap"

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    shift_a_id: Mapped[int] = mapped_column(BigId, ForeignKey("duty_shift.id", ondelete="CASCADE"), index=True)
    shift_b_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("duty_shift.id", ondelete="CASCADE"))
    # Staff of shift A before the swap, and the staff member who took it over.
    staff_a_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"))
    staff_b_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"))
    by_staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"))
    reason: Mapped[Optional[str]] = mapped_column(String(200))
