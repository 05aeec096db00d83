"""Alerts to staff, recorded once and delivered once (the reply clock's warnings and breaches, 督办).

Every alert is recorded once under a unique ``key`` (``"<clock id>:<kind>"``
for reply clocks): whoever inserts the key first (the scheduled job, a
duplicate of it, or the sweep) delivers it; everyone else does nothing. Each
recipient's delivery result lives on the outbound message it was handed to.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, BigId, IdMixin, TimestampMixin


class AlertKind(str, enum.Enum):
    WARN = "warn"          # 即将超时: the person on duty, before the deadline
    BREACH = "breach"      # 超时未回复: on duty + duty lead + community admin
    NO_DUTY = "no_duty"    # 无人值班: a clock started while nobody was on duty
    OVERDUE = "overdue"    # 督办: a request past its resolution deadline (requests module)
    CALENDAR = "calendar"  # 节假日安排未导入: next year's holiday notice is missing (weekly, admins)
    DEADLINE = "deadline"  # 办理时限调整: a calendar change moved a deadline (the assignee)
    SEND_UNKNOWN = "send_unknown"  # 发送结果未知: a send was interrupted where it cannot be repeated safely


ALERT_KIND_LABELS = {
    AlertKind.WARN.value: "即将超时提醒",
    AlertKind.BREACH.value: "超时未回复告警",
    AlertKind.NO_DUTY.value: "无人值班告警",
    AlertKind.OVERDUE.value: "超期督办",
    AlertKind.CALENDAR.value: "节假日安排未导入",
    AlertKind.DEADLINE.value: "办理时限调整",
    AlertKind.SEND_UNKNOWN.value: "发送结果未知",
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
    message_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("message.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default=RecipientState.PENDING.value)

    alert: Mapped[Alert] = relationship(back_populates="recipients")
