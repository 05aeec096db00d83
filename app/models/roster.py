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
