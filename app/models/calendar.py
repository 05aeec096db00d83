"""Operator overrides of the working-day calendar (for years the holiday package does not know yet)."""
from __future__ import annotations

from datetime import date
from typing import Optional

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin


class CalendarDay(TimestampMixin, Base):
    """One date declared a working day (调休上班) or a day off (节假日) by an operator."""

    __tablename__ = "calendar_day"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool]
    note: Mapped[Optional[str]] = mapped_column(String(100))
