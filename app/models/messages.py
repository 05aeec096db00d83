"""Messages in and out, one row per channel delivery."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BigId, IdMixin, utcnow


class Direction(str, enum.Enum):
    IN = "in"
    OUT = "out"


class OutboundStatus(str, enum.Enum):
    QUEUED = "queued"
    SENDING = "sending"    # claimed by one attempt (attempt_id) until check_at; then the reconciler decides
    SENT = "sent"
    FAILED = "failed"      # gave up after retries
    REJECTED = "rejected"  # the channel refused it for good (e.g. 45015 window expired)
    UNKNOWN = "unknown"    # a send was interrupted on a channel without idempotency: an operator resolves it


# Outbound rows not settled yet: what the reconciler and `linli outbox stuck` look at.
UNSETTLED = (OutboundStatus.QUEUED.value, OutboundStatus.SENDING.value, OutboundStatus.UNKNOWN.value)


class Message(IdMixin, Base):
    """A message. ``dedupe_key`` is unique per channel and direction.

    Inbound: the channel's message id (or, for events, sender + create time),
    so a delivery retried by WeChat is stored once. Outbound: an idempotency
    key chosen by the sender, so a retried job does not send twice.
    """

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("channel", "direction", "dedupe_key"),
        Index("ix_message_chat_time", "channel", "chat_id", "received_at"),
        # Small by construction (settled rows leave it): the outbox reconciler's query.
        Index("ix_message_unsettled", "status", "check_at",
              postgresql_where=text("status IN ('queued', 'sending', 'unknown')"),
              sqlite_where=text("status IN ('queued', 'sending', 'unknown')")),
        # Small too (failures are rare): linli_sends_failed in /metrics.
        Index("ix_message_send_failed", "status", postgresql_where=text("status IN ('failed', 'rejected')"),
              sqlite_where=text("status IN ('failed', 'rejected')")),
        # Small too: inbound messages whose deferred handling a worker still owes (the sweep's query).
        Index("ix_message_pending", "pending_at", postgresql_where=text("pending_at IS NOT NULL"),
              sqlite_where=text("pending_at IS NOT NULL")),
        # The same rows by sender: "has this sender a report still pending?" (conversation/express.py).
        Index("ix_message_pending_sender", "channel", "sender_id", postgresql_where=text("pending_at IS NOT NULL"),
              sqlite_where=text("pending_at IS NOT NULL")),
    )

    direction: Mapped[str] = mapped_column(String(3))
    channel: Mapped[str] = mapped_column(String(20))
    dedupe_key: Mapped[str] = mapped_column(String(191))
    channel_msg_id: Mapped[Optional[str]] = mapped_column(String(128))
    chat_id: Mapped[Optional[str]] = mapped_column(String(128))
    group_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("resident_group.id"), index=True)
    community_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("community.id"), index=True)
    sender_id: Mapped[Optional[str]] = mapped_column(String(128))
    sender_name: Mapped[Optional[str]] = mapped_column(String(100))
    recipient_id: Mapped[Optional[str]] = mapped_column(String(128))
    resident_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("resident.id"), index=True)
    staff_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("staff.id"), index=True)
    is_staff: Mapped[bool] = mapped_column(default=False)
    msg_type: Mapped[str] = mapped_column(String(30), default="text")
    text: Mapped[Optional[str]] = mapped_column(Text)
    media: Mapped[Optional[dict[str, Any]]]
    sent_at: Mapped[Optional[datetime]]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    in_reply_to_id: Mapped[Optional[int]] = mapped_column(BigId, ForeignKey("message.id"))
    # What the core made of it (intent, reply kind) — filled in after handling.
    handling: Mapped[Optional[dict[str, Any]]]
    # Deferred handling (docs/reliability.md §11): answered at once, a worker still owes the rest since
    # ``pending_at`` (None: nothing owed); ``claimed_at``: a worker or the sweep holds it (a lease).
    pending_at: Mapped[Optional[datetime]]
    claimed_at: Mapped[Optional[datetime]]
    # Outbound delivery state.
    status: Mapped[Optional[str]] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(default=0)
    error_code: Mapped[Optional[str]] = mapped_column(String(30))
    error: Mapped[Optional[str]] = mapped_column(String(500))
    delivered_at: Mapped[Optional[datetime]]
    # The attempt that holds the row while "sending" (and that may still settle it when "unknown").
    attempt_id: Mapped[Optional[str]] = mapped_column(String(32))
    # When the reconciler looks at a row nobody settled: a sending row's lease end, a queued row's
    # latest expected pick-up. None: nothing to check (settled, or waiting for the bridge to pull).
    check_at: Mapped[Optional[datetime]]
