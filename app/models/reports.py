"""The dashboard's rollup (docs/scaling.md, "The dashboard's 三率 over a street's year"): per community
and local day, the additive counts 响应率/解决率/满意率 and the one-hour reply rate are made of.

Only ``workers/reports.py`` (the ``reports.rollup`` job) and ``linli reports rollup`` write these
tables, each run in one transaction that also bumps ``RollupState.generation``; the dashboard reads
the closed days it can trust from here and everything else live (app/handlers/reports/rollup_read.py).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, IdMixin
from app.models.requests import ServiceRequest
from app.models.sla import ReplyClock


class RequestDay(IdMixin, Base):
    """Requests created on ``day`` (local) in one community, grid and category, counted by what they count
    for (the keys of ``requests.COUNTS`` except ``overdue``, which depends on the moment of asking)."""

    __tablename__ = "request_day"
    __table_args__ = (Index("ix_request_day_community_day", "community_id", "day"),)

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"))
    day: Mapped[date]
    grid_id: Mapped[Optional[int]] = mapped_column(BigId)  # no foreign key: a deleted grid keeps its history
    category: Mapped[str] = mapped_column(String(20))
    total: Mapped[int] = mapped_column(default=0)
    merged: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    responded: Mapped[int] = mapped_column(default=0)
    resolved: Mapped[int] = mapped_column(default=0)
    on_time: Mapped[int] = mapped_column(default=0)
    escalated: Mapped[int] = mapped_column(default=0)
    open: Mapped[int] = mapped_column(default=0)
    satisfied: Mapped[int] = mapped_column(default=0)
    basically: Mapped[int] = mapped_column(default=0)
    unsatisfied: Mapped[int] = mapped_column(default=0)
    level_grid: Mapped[int] = mapped_column(default=0)
    level_community: Mapped[int] = mapped_column(default=0)
    level_street: Mapped[int] = mapped_column(default=0)
    level_department: Mapped[int] = mapped_column(default=0)


REQUEST_DAY_COUNTS = ("total", "merged", "rejected", "responded", "resolved", "on_time", "escalated", "open",
                      "satisfied", "basically", "unsatisfied", "level_grid", "level_community", "level_street",
                      "level_department")


class ClockDay(IdMixin, Base):
    """Reply clocks started on ``day`` (local) in one community, counted by their request's grid and by the
    staff member who stopped them. A clock not stopped counts as unanswered (see ``RollupDay.settles_at``)."""

    __tablename__ = "clock_day"
    __table_args__ = (Index("ix_clock_day_community_day", "community_id", "day"),)

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"))
    day: Mapped[date]
    grid_id: Mapped[Optional[int]] = mapped_column(BigId)
    staff_id: Mapped[Optional[int]] = mapped_column(BigId)
    clocks: Mapped[int] = mapped_column(default=0)
    replied: Mapped[int] = mapped_column(default=0)
    within: Mapped[int] = mapped_column(default=0)
    unanswered: Mapped[int] = mapped_column(default=0)
    # The first-reply times (seconds) of the stopped clocks: a median is not additive, the list is.
    reply_seconds: Mapped[list[Any]] = mapped_column(JSON, default=list)


class RollupDay(Base):
    """One community's day is in the rollup: when it was computed, and with which reply target."""

    __tablename__ = "rollup_day"

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    built_at: Mapped[datetime]
    reply_sla_seconds: Mapped[int]
    # The latest deadline of a clock that was neither stopped nor due when the day was computed: until then
    # the day is read live (that clock turns from "still inside its hour" to unanswered without any change).
    settles_at: Mapped[Optional[datetime]]


class RollupState(Base):
    """The single row (id 1) that says how far the rollup can be trusted.

    Every pair in ``rollup_day`` reflects every change to requests and clocks made before
    ``valid_at - rollup.MARGIN``; ``generation`` grows with each committed rebuild, so a reader notices a
    rebuild that committed between its statements."""

    __tablename__ = "rollup_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    generation: Mapped[int] = mapped_column(default=0)
    valid_at: Mapped[Optional[datetime]]
    built_through: Mapped[Optional[date]]  # the last closed day the job built for every community


# What changed since the rollup was computed: a short index range at the end of each table.
Index("ix_service_request_updated", ServiceRequest.__table__.c.updated_at)
Index("ix_reply_clock_updated", ReplyClock.__table__.c.updated_at)
