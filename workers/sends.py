"""Delivering outbound messages recorded by ``app.handlers.messaging.outbox.queue_message``.

``deliver_message(message_id)`` (queue "send") picks the sender for the row's
channel and recipient kind (app/channels/senders.py), sends it — in parts when
the text is longer than the channel takes — and records the final state:

- sent:      delivered_at set;
- rejected:  WeChat/WeCom said no for good (45015 window expired, 45047 quota,
             bad token after one refresh, unknown user, no route) — error_code
             and reason recorded, never retried;
- failed:    transient errors (network, 5xx, system busy) outlived the retries;
- queued:    still waiting: a retry is scheduled (RQ Retry with backoff), the
             group webhook's rate limit deferred it to a later slot, or the
             bridge will pull it from /ingest/outbox.

A row that is no longer "queued" is never sent again, and a Redis lock keeps
two workers from sending the same row at once.
"""
from __future__ import annotations

import logging
from datetime import datetime

from rq import get_current_job

from app.channels.senders import Outcome, choose, split_text, target_for
from app.clock import now
from app.extensions import db, redis_ext
from app.jobs import job_id
from app.models import Direction, Message, OutboundStatus
from workers.jobs import job

log = logging.getLogger(__name__)



class SendRetry(Exception):
    """Raised so RQ schedules the next attempt (the reason is on the row)."""


@job("send.deliver")
def deliver_message(message_id: int) -> str:
    current = get_current_job()
    # Outside RQ (a direct call) there is no retry to wait for: this attempt is the last.
    final = current is None or not current.retries_left
    return deliver(message_id, final_attempt=final)


def deliver(message_id: int, *, final_attempt: bool = True) -> str:
    """Send one outbound row; returns what happened (the row's status, or why it is still queued)."""
    lock = redis_ext.client.lock(f"linli:send-lock:{message_id}", timeout=180, blocking=False)
    if not lock.acquire():
        return "busy"  # another worker is sending it right now
    try:
        return _deliver(message_id, final_attempt)
    finally:
        try:
            lock.release()
        except Exception:  # noqa: BLE001 - lock expired meanwhile: nothing to release
            pass


def _deliver(message_id: int, final_attempt: bool) -> str:
    message = db.session.get(Message, message_id)
    if message is None or message.direction != Direction.OUT.value:
        log.warning("deliver_message: no outbound message %s", message_id)
        return "missing"
    if message.status != OutboundStatus.QUEUED.value:
        return str(message.status)
    target = target_for(message)
    sender = choose(target)
    parts = split_text(message.text or "", sender.max_bytes) or [""]
    handling = dict(message.handling or {})
    sent_parts = int(handling.get("parts_sent", 0))
    outcome = Outcome("sent")
    for index in range(sent_parts, len(parts)):
        outcome = sender.send(target, parts[index])
        if outcome.status != "sent":
            break
        sent_parts = index + 1
        if len(parts) > 1:  # remember progress so a retry does not repeat earlier parts
            message.handling = {**handling, "route": sender.name, "parts": len(parts), "parts_sent": sent_parts}
            db.session.commit()
    handling = {**(message.handling or handling), "route": sender.name}
    if len(parts) > 1:
        handling.update(parts=len(parts), parts_sent=sent_parts)
    message.handling = handling
    return _record(message, outcome, final_attempt)


def _record(message: Message, outcome: Outcome, final_attempt: bool) -> str:
    status = outcome.status
    if status == "sent":
        message.status, message.delivered_at = OutboundStatus.SENT.value, now()
        message.attempts = (message.attempts or 0) + 1
        message.error, message.error_code = None, None
        db.session.commit()
        return "sent"
    if status == "awaiting_pull":
        db.session.commit()
        return "awaiting_pull"
    if status == "deferred":
        when = outcome.retry_at or now()
        message.handling = {**(message.handling or {}), "deferred_until": when.isoformat()}
        db.session.commit()
        _reschedule(message.id, when)
        return "deferred"
    message.attempts = (message.attempts or 0) + 1
    message.error_code, message.error = outcome.error_code, (outcome.reason or "")[:500] or None
    if status == "rejected":
        message.status = OutboundStatus.REJECTED.value
        db.session.commit()
        log.warning("message %s rejected by %s: %s", message.id, message.channel, outcome.error_code)
        return "rejected"
    # retry: transient trouble
    if final_attempt:
        message.status = OutboundStatus.FAILED.value
        db.session.commit()
        log.warning("message %s failed after %s attempts: %s", message.id, message.attempts, outcome.error_code)
        return "failed"
    db.session.commit()
    raise SendRetry(f"message {message.id}: {outcome.error_code}")


def _reschedule(message_id: int, when: datetime) -> None:
    # A new job id per slot: the running job keeps its own id ("send-<id>").
    deliver_message.enqueue_at(when, message_id, job_id=job_id("send", message_id, "at", int(when.timestamp())))
