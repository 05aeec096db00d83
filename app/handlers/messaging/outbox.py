"""Outbound messages: recorded first, then delivered by an RQ job.

Every feature that speaks to someone (async bot answers, staff replies posted
to a group, SLA alerts, booking reminders, event announcements) calls
``queue_message``. The row is the record of what was sent, to whom and with
what result; the ``idempotency_key`` makes a repeated call (a job that runs
twice) queue the message once.

Delivery (``workers.sends.deliver_message``) picks the channel sender by
``channel`` and ``recipient_kind`` and records the final status on the row.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import jobs
from app.clock import now
from app.extensions import db
from app.models import Direction, Message, OutboundStatus

# recipient_kind values
TO_USER = "user"            # a resident on mp/miniprogram (客服消息 to an openid) or a WeCom external contact
TO_STAFF = "staff"          # a staff member: WeCom app message to their WeCom userid
TO_GROUP = "group"          # a resident or duty group: group push webhook / appchat / bridge outbox
RECIPIENT_KINDS = (TO_USER, TO_STAFF, TO_GROUP)


def queue_message(*, channel: str, recipient_kind: str, recipient_id: str, text: str, idempotency_key: str,
                  community_id: int | None = None, chat_id: str | None = None, group_id: int | None = None,
                  staff_id: int | None = None, resident_id: int | None = None,
                  in_reply_to_id: int | None = None, meta: dict[str, Any] | None = None,
                  enqueue: bool = True) -> Message:
    """Record an outbound message and enqueue its delivery (once per idempotency key)."""
    if recipient_kind not in RECIPIENT_KINDS:
        raise ValueError(f"unknown recipient kind {recipient_kind!r}")
    if not text or not text.strip():
        raise ValueError("empty outbound text")
    key = idempotency_key[:191]
    existing = _find(channel, key)
    if existing is not None:
        return existing
    row = Message(
        direction=Direction.OUT.value, channel=channel, dedupe_key=key, chat_id=chat_id, group_id=group_id,
        community_id=community_id, recipient_id=recipient_id, staff_id=staff_id, resident_id=resident_id,
        msg_type="text", text=text, in_reply_to_id=in_reply_to_id, received_at=now(),
        status=OutboundStatus.QUEUED.value, handling={"recipient_kind": recipient_kind, **(meta or {})},
    )
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = _find(channel, key)
        if existing is None:  # pragma: no cover
            raise
        return existing
    if enqueue:
        enqueue_delivery(row.id)
    return row


def enqueue_delivery(message_id: int):
    return jobs.enqueue("send.deliver", message_id, job_id=jobs.job_id("send", message_id))


def _find(channel: str, key: str) -> Message | None:
    return db.session.scalars(select(Message).where(
        Message.channel == channel, Message.direction == Direction.OUT.value, Message.dedupe_key == key)).first()
