"""Outbound messages: recorded first, then delivered by an RQ job.

Every feature that speaks to someone (async bot answers, staff replies posted
to a group, SLA alerts, booking reminders, event announcements) calls
``queue_message``. The row is the record of what was sent, to whom and with
what result; the ``idempotency_key`` makes a repeated call (a job that runs
twice) queue the message once.

Delivery (``workers.sends.deliver_message``) picks the channel sender by
``channel`` and ``recipient_kind`` and records the final status on the row.
A row carries ``check_at``, when the reconciler (``send.reconcile``) hands it
to a worker again if nothing settled it by then, so a lost job or a dead worker
never leaves it queued for good; operators see and settle the rest with
``stuck`` and ``resolve`` (`linli outbox`).
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app import jobs
from app.clock import now
from app.errors import DomainError
from app.extensions import db
from app.models import Direction, Message, OutboundStatus
from app.models.messages import UNSETTLED

log = logging.getLogger(__name__)

# recipient_kind values
TO_USER = "user"            # a resident on mp/miniprogram (客服消息 to an openid) or a WeCom external contact
TO_STAFF = "staff"          # a staff member: WeCom app message to their WeCom userid
TO_GROUP = "group"          # a resident or duty group: group push webhook / appchat / bridge outbox
RECIPIENT_KINDS = (TO_USER, TO_STAFF, TO_GROUP)

# Set by the timer (workers/timer.py) while it runs a due job: the messages that job queues are sent at
# once, side by side, by the timer's own threads instead of one RQ job after another.
_inline_delivery: ContextVar[Callable[[int], None] | None] = ContextVar("linli_inline_delivery", default=None)


@contextmanager
def delivering_inline(send: Callable[[int], None]) -> Iterator[None]:
    """Within this block ``queue_message`` hands each new row's id to ``send`` instead of RQ."""
    token = _inline_delivery.set(send)
    try:
        yield
    finally:
        _inline_delivery.reset(token)


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
    values = outbound_values(channel=channel, recipient_kind=recipient_kind, recipient_id=recipient_id, text=text,
                             idempotency_key=idempotency_key, community_id=community_id, chat_id=chat_id,
                             group_id=group_id, staff_id=staff_id, resident_id=resident_id,
                             in_reply_to_id=in_reply_to_id, meta=meta)
    key = values["dedupe_key"]
    existing = _find(channel, key)
    if existing is not None:
        return existing
    row = Message(**values)
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
        hand_over(row.id)
    return row


def outbound_values(*, channel: str, recipient_kind: str, recipient_id: str, text: str, idempotency_key: str,
                    community_id: int | None = None, chat_id: str | None = None, group_id: int | None = None,
                    staff_id: int | None = None, resident_id: int | None = None,
                    in_reply_to_id: int | None = None, meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """The column values of a queued outbound row, for callers that insert several rows in one statement
    (the timer's prepared alerts, app/handlers/sla/prepared.py); ``queue_message`` builds its row from them."""
    at = now()
    return {"direction": Direction.OUT.value, "channel": channel, "dedupe_key": idempotency_key[:191],
            "chat_id": chat_id, "group_id": group_id, "community_id": community_id, "recipient_id": recipient_id,
            "staff_id": staff_id, "resident_id": resident_id, "msg_type": "text", "text": text,
            "in_reply_to_id": in_reply_to_id, "received_at": at, "status": OutboundStatus.QUEUED.value,
            "handling": {"recipient_kind": recipient_kind, **(meta or {})},
            "check_at": at + timedelta(seconds=_stuck_seconds())}


def hand_over(message_id: int) -> None:
    """Start delivering a committed queued row: the timer's send threads if inside ``delivering_inline``,
    else an RQ job. Either way the row's ``check_at`` brings the reconciler if nobody settles it."""
    inline = _inline_delivery.get()
    if inline is not None:
        inline(message_id)
        return
    try:
        enqueue_delivery(message_id)
    except Exception:  # noqa: BLE001 - Redis down: the row is recorded; the reconciler hands it over later
        log.warning("could not enqueue message %s; the reconciler will", message_id, exc_info=True)


def enqueue_delivery(message_id: int):
    return jobs.enqueue("send.deliver", message_id, job_id=jobs.job_id("send", message_id))


def _find(channel: str, key: str) -> Message | None:
    return db.session.scalars(select(Message).where(
        Message.channel == channel, Message.direction == Direction.OUT.value, Message.dedupe_key == key)).first()


def _stuck_seconds() -> int:
    return int(current_app.config["OUTBOX_STUCK_SECONDS"])


# ---- operators: what is stuck, and settling it by hand ---------------------------------------------

class OutboxError(DomainError):
    code = "outbox"


def stuck(older_than_seconds: int | None = None, at: datetime | None = None, limit: int = 500) -> list[Message]:
    """Unsettled outbound rows older than the threshold, and every "unknown" one, oldest first."""
    at = at or now()
    seconds = _stuck_seconds() if older_than_seconds is None else older_than_seconds
    cutoff = at - timedelta(seconds=seconds)
    return list(db.session.scalars(
        select(Message).where(Message.direction == Direction.OUT.value, Message.status.in_(UNSETTLED),
                              or_(Message.status == OutboundStatus.UNKNOWN.value, Message.received_at <= cutoff))
        .order_by(Message.received_at, Message.id).limit(limit)))


RESOLUTIONS = ("sent", "failed", "retry")


def resolve(message_id: int, how: str, *, by: str = "operator") -> Message:
    """Settle an outbound row by hand: the operator knows it arrived (sent), gives up (failed), or wants
    it sent again (retry; for a row that may have arrived, only after checking with the recipient)."""
    if how not in RESOLUTIONS:
        raise ValueError(f"unknown resolution {how!r}")
    row = db.session.get(Message, message_id, populate_existing=True)
    if row is None or row.direction != Direction.OUT.value:
        raise OutboxError(f"没有编号为 {message_id} 的外发消息", field="id")
    at = now()
    if row.status == OutboundStatus.SENT.value:
        raise OutboxError(f"消息 {message_id} 已发送，无需处理", field="id")
    if row.status == OutboundStatus.SENDING.value and row.check_at is not None and row.check_at > at:
        raise OutboxError(f"消息 {message_id} 正在发送中（至 {row.check_at.isoformat(timespec='seconds')}），"
                          "请稍后再处理", field="id")
    if how == "retry" and row.status not in (*UNSETTLED, OutboundStatus.FAILED.value, OutboundStatus.REJECTED.value):
        raise OutboxError(f"消息 {message_id} 的状态 {row.status} 不能重发", field="id")
    handling = {k: v for k, v in (row.handling or {}).items() if k not in ("uncertain_since", "attempt_since")}
    handling["resolved"] = {"how": how, "by": by, "at": at.isoformat(), "was": row.status}
    row.handling, row.attempt_id = handling, None
    if how == "sent":
        row.status, row.delivered_at, row.check_at = OutboundStatus.SENT.value, at, None
    elif how == "failed":
        row.status, row.check_at = OutboundStatus.FAILED.value, None
        row.error = row.error or "marked failed by an operator"
    else:
        row.status, row.check_at, row.error, row.error_code = OutboundStatus.QUEUED.value, at, None, None
    db.session.commit()
    if how == "retry":
        try:
            enqueue_delivery(row.id)
        except Exception:  # noqa: BLE001 - Redis down: check_at is now, the reconciler hands it over
            log.warning("could not enqueue message %s; the reconciler will", row.id, exc_info=True)
    return row
