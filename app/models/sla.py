"""The one-hour public reply clock (1小时内公开回复) and the alerts it raises.

A ``ReplyClock`` starts when a resident's message needs a human answer (or a
request is created) and stops at the first public reply by staff. Workers warn
the person on duty before ``due_at`` and alert the duty lead and the community
admin at ``due_at``.

``next_alert_at`` is the time of the next alert this clock still owes (the
warning, then the deadline; NULL once stopped or breached). The periodic sweep
only asks "which clocks owe an alert by now?", so a partial index on that
column keeps the sweep a short index range scan however many clocks are open or
closed.

Every alert is recorded once under a unique ``key`` (``"<clock id>:<kind>"``
for reply clocks): whoever inserts the key first (the scheduled job, a
duplicate of it, or the sweep) delivers it; everyone else does nothing.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, BigId, IdMixin, TimestampMixin


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

    @property
    def is_open(self) -> bool:
        return self.stopped_at is None

    def reply_seconds(self) -> float | None:
        if self.stopped_at is None:
            return None
        return (self.stopped_at - self.started_at).total_seconds()

    def __repr__(self) -> str:
        return f"<ReplyClock {self.id} due {self.due_at:%Y-%m-%d %H:%M:%S}>"


class AlertKind(str, enum.Enum):
    WARN = "warn"          # 即将超时: the person on duty, before the deadline
    BREACH = "breach"      # 超时未回复: on duty + duty lead + community admin
    NO_DUTY = "no_duty"    # 无人值班: a clock started while nobody was on duty
    OVERDUE = "overdue"    # 督办: a request past its resolution deadline (requests module)


ALERT_KIND_LABELS = {
    AlertKind.WARN.value: "即将超时提醒",
    AlertKind.BREACH.value: "超时未回复告警",
    AlertKind.NO_DUTY.value: "无人值班告警",
    AlertKind.OVERDUE.value: "超期督办",
}


class Alert(IdMixin, TimestampMixin, Base):
    """One alert, recorded once: the unique ``key`` is what makes delivery exactly-once."""

    __tablename__ = "alert"
    __table_args__ = (
        # Alerts whose recipients have not all been handed to the outbox yet
        # (a worker died in between): the sweep finishes them.
        Index("ix_alert_undispatched", "created_at",
              postgresql_where=text("dispatched_at IS NULL"), sqlite_where=text("dispatched_at IS NULL")),
        Index("ix_alert_community_created", "community_id", "created_at"),
    )

    key: Mapped[str] = mapped_column(String(191), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    community_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("community.id"))
    clock_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("reply_clock.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    related: Mapped[Optional[dict[str, Any]]]
    # Set once every recipient's message is in the outbox.
    dispatched_at: Mapped[Optional[datetime]]

    recipients: Mapped[list["AlertRecipient"]] = relationship(
        back_populates="alert", cascade="all, delete-orphan", order_by="AlertRecipient.id")

    def __repr__(self) -> str:
        return f"<Alert {self.key}>"


class RecipientState(str, enum.Enum):
    PENDING = "pending"        # recorded, not yet in the outbox
    QUEUED = "queued"          # in the outbox; the message row has the delivery result
    NO_CHANNEL = "no_channel"  # no WeCom userid and no duty group: nothing can reach them


class AlertRecipient(IdMixin, TimestampMixin, Base):
    """Who an alert goes to and through what. The delivery result lives on the outbound message."""

    __tablename__ = "alert_recipient"
    __table_args__ = (UniqueConstraint("alert_id", "staff_id"),)

    alert_id: Mapped[int] = mapped_column(BigId, ForeignKey("alert.id", ondelete="CASCADE"), index=True)
    # NULL for the duty group itself when nobody could be named (no duty, no admin).
    staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))  # duty | lead | admin | group
    channel: Mapped[Optional[str]] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(10))  # staff | group | none
    group_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("resident_group.id"))
    message_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("message.id"))
    state: Mapped[str] = mapped_column(String(20), default=RecipientState.PENDING.value)

    alert: Mapped[Alert] = relationship(back_populates="recipients")
