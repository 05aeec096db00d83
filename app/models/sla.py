"""The one-hour public reply clock (1小时内公开回复).

A ``ReplyClock`` starts when a resident's message needs a human answer (or a
request is created) and stops at the first public reply by staff. Workers warn
the person on duty before ``due_at`` and alert the duty lead and the community
admin at ``due_at``.

``next_alert_at`` is the time of the next alert this clock still owes (the
warning, then the deadline; NULL once stopped or breached). The periodic sweep
only asks "which clocks owe an alert by now?", so a partial index on that
column keeps the sweep a short index range scan however many clocks are open or
closed.

The alerts it raises are in app/models/alerts.py.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, IdMixin, TimestampMixin, utcnow


class ReplyClock(IdMixin, TimestampMixin, Base):
    __tablename__ = "reply_clock"
    __table_args__ = (
        # The sweep's only query: open clocks whose next alert is due. Stopped and
        # breached clocks have NULL here and are not in the index at all.
        Index("ix_reply_clock_next_alert", "next_alert_at",
              postgresql_where=text("next_alert_at IS NOT NULL"), sqlite_where=text("next_alert_at IS NOT NULL")),
        # A staff message in a group stops that group's open clocks.
        Index("ix_reply_clock_group_open", "group_id", "stopped_at"),
        # Inbox (open clocks of a community by deadline) and statistics (by start time).
        Index("ix_reply_clock_community_due", "community_id", "stopped_at", "due_at"),
        Index("ix_reply_clock_community_started", "community_id", "started_at"),
    )

    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("community.id"))
    # The resident's message that started the clock (one clock per message).
    message_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("message.id"), unique=True)
    # The request (诉求) it belongs to. No foreign key: service_request lives in the
    # requests module, which is not required for the clock to work.
    request_id: Mapped[Optional[int]] = mapped_column(BigId, unique=True)
    group_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("resident_group.id"))
    resident_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("resident.id"), index=True)

    started_at: Mapped[datetime]
    # NULL when warnings are switched off (LINLI_REPLY_WARN_SECONDS=0).
    warn_at: Mapped[Optional[datetime]]
    due_at: Mapped[datetime]
    next_alert_at: Mapped[Optional[datetime]]

    stopped_at: Mapped[Optional[datetime]]
    stopped_by_staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"), index=True)
    # The staff reply that stopped it (an inbound staff message, or the outbound
    # message posted from the mini-program).
    stop_message_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("message.id"))
    warned_at: Mapped[Optional[datetime]]
    breached_at: Mapped[Optional[datetime]]
    # Any change (stopped, warned, breached): the dashboard's rollup finds the days to recompute by it.
    # NULL for clocks last changed before migration 0008.
    updated_at: Mapped[Optional[datetime]] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def is_open(self) -> bool:
        return self.stopped_at is None

    def reply_seconds(self) -> float | None:
        if self.stopped_at is None:
            return None
        return (self.stopped_at - self.started_at).total_seconds()

    def __repr__(self) -> str:
        return f"<ReplyClock {self.id} due {self.due_at:%Y-%m-%d %H:%M:%S}>"
