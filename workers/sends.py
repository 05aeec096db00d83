"""Delivering outbound messages recorded by ``app.handlers.messaging.outbox.queue_message``, exactly once.

``deliver_message(message_id)`` (queue "send") claims the row (queued → sending, with a fresh
attempt id and a lease, app/handlers/messaging/attempts.py), picks the sender for its channel and
recipient kind (app/channels/senders.py), sends it — in parts when the text is longer than the
channel takes — and settles it, only while its attempt still holds the row:

- sent:      delivered_at set;
- rejected:  WeChat/WeCom said no for good (45015 window expired, 45047 quota,
             bad token after one refresh, unknown user, no route) — never retried;
- failed:    transient errors (network, 5xx, system busy) outlived the retries;
- queued:    a retry is scheduled (RQ Retry with backoff), the group webhook's rate
             limit deferred it, or the bridge will pull it from /ingest/outbox;
- unknown:   the answer timed out (or the worker died) on a channel that cannot dedupe a
             repeat: not sent again; the operator is told and resolves it (`linli outbox`).

``reconcile_outbox`` (job "send.reconcile", every few seconds from cron) resolves the rows nobody
settled: a ``sending`` row whose lease ran out is sent again when repeating is safe (WeCom's
duplicate check, same body, still within its interval) or marked ``unknown``; a ``queued`` row
past its expected pick-up (its job lost, its worker dead) is handed to a worker again.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from rq import get_current_job
from sqlalchemy import select

from app.channels.senders import BridgeOutbox, Outcome, Sender, choose, split_text, target_for
from app.clock import now
from app.extensions import db
from app.handlers.alerts import raise_alert
from app.handlers.messaging import attempts
from app.handlers.messaging.outbox import enqueue_delivery
from app.handlers.sla.roster import community_admins
from app.jobs import job_id
from app.models import Direction, Message, OutboundStatus
from app.models.alerts import AlertKind
from workers.jobs import job

log = logging.getLogger(__name__)

SENT, FAILED, REJECTED = OutboundStatus.SENT.value, OutboundStatus.FAILED.value, OutboundStatus.REJECTED.value
RECONCILE_BATCH = 200


class SendRetry(Exception):
    """Raised so RQ schedules the next attempt (the reason is on the row)."""


@job("send.deliver")
def deliver_message(message_id: int) -> str:
    current = get_current_job()
    # Outside RQ (a direct call) there is no retry to wait for: this attempt is the last.
    final = current is None or not current.retries_left
    return deliver(message_id, final_attempt=final)


def deliver(message_id: int, *, final_attempt: bool = True) -> str:
    """Send one outbound row; returns what happened (the row's status, "busy", or why it is still queued)."""
    message = attempts.load(message_id)
    if message is None or message.direction != Direction.OUT.value:
        log.warning("deliver_message: no outbound message %s", message_id)
        return "missing"
    if message.status == attempts.SENDING:
        # A re-run after a crash: the dead attempt's lease decides (live: someone is on it).
        taken = attempts.take_over(message_id)
        if taken == "unknown":
            report_unknown(message_id)
        if taken != "requeued":
            return taken
        message = attempts.load(message_id)
    if message is None or message.status != attempts.QUEUED:
        return str(message.status) if message is not None else "missing"
    target = target_for(message)
    sender = choose(target)
    if isinstance(sender, BridgeOutbox):
        # Not claimed: the bridge pulls queued rows and acks them itself; a claim would race its ack.
        attempts.await_pull(message_id, route=sender.name)
        return "awaiting_pull"
    attempt = attempts.claim(message, route=sender.name, repeat_window=sender.repeat_window())
    if attempt is None:
        return "busy"  # another worker claimed it first
    return _send(message_id, attempt, sender, target, final_attempt)


def _send(message_id: int, attempt: str, sender: Sender, target, final_attempt: bool) -> str:
    message = attempts.load(message_id)
    parts = split_text(message.text or "", sender.max_bytes) or [""]
    sent_parts = int((message.handling or {}).get("parts_sent", 0))
    outcome = Outcome("sent")
    for index in range(sent_parts, len(parts)):
        if index > sent_parts and not attempts.renew(message_id, attempt, parts=len(parts), parts_sent=index):
            return "superseded"  # the lease ran out and the reconciler gave the row to another attempt
        outcome = sender.send(target, parts[index])
        if outcome.status != "sent":
            break
        sent_parts = index + 1
    progress = {"parts": len(parts), "parts_sent": sent_parts} if len(parts) > 1 else {}
    return _record(message_id, attempt, outcome, final_attempt, progress)


def _record(message_id: int, attempt: str, outcome: Outcome, final_attempt: bool, progress: dict) -> str:
    message = attempts.load(message_id)
    handling = {**(message.handling or {}), **progress}
    status = outcome.status
    if status == "sent":
        return _settled(message_id, attempt, SENT, delivered_at=now(), error=None, error_code=None,
                        handling={k: v for k, v in handling.items() if k != "uncertain_since"})
    if status in ("awaiting_pull", "deferred"):
        check_at = None  # awaiting_pull: the bridge pulls it from /ingest/outbox
        if status == "deferred":
            when = outcome.retry_at or now()
            handling["deferred_until"] = when.isoformat()
            check_at = when + timedelta(seconds=attempts.stuck_seconds())
        if not attempts.settle(message_id, attempt, attempts.QUEUED, handling=handling, check_at=check_at):
            return "superseded"
        if status == "deferred":
            _reschedule(message_id, when)
        return status
    errors = {"error_code": outcome.error_code, "error": (outcome.reason or "")[:500] or None}
    if status == "rejected":
        log.warning("message %s rejected by %s: %s", message_id, message.channel, outcome.error_code)
        return _settled(message_id, attempt, REJECTED, handling=handling, **errors)
    if outcome.uncertain:
        # The answer timed out: WeChat may have delivered it. Repeat only where that cannot deliver twice.
        handling["uncertain_since"] = attempts.uncertain_since(handling)
        if final_attempt or not attempts.may_repeat(handling, now()):
            result = _settled(message_id, attempt, attempts.UNKNOWN, handling=handling, **errors)
            if result == attempts.UNKNOWN:
                report_unknown(message_id)
            return result
    if final_attempt:
        log.warning("message %s failed after %s attempts: %s", message_id, message.attempts, outcome.error_code)
        return _settled(message_id, attempt, FAILED, handling=handling, **errors)
    retry_in = _retry_interval()
    if not attempts.settle(message_id, attempt, attempts.QUEUED, handling=handling,
                           check_at=now() + timedelta(seconds=retry_in + attempts.stuck_seconds()), **errors):
        return "superseded"
    raise SendRetry(f"message {message_id}: {outcome.error_code}")


def _settled(message_id: int, attempt: str, status: str, **values) -> str:
    return status if attempts.settle(message_id, attempt, status, **values) else "superseded"


def _retry_interval() -> int:
    current = get_current_job()
    try:
        return int(current.get_retry_interval()) if current is not None else 60
    except (AssertionError, AttributeError, IndexError, TypeError):
        return 60


def _reschedule(message_id: int, when: datetime) -> None:
    # A new job id per slot: the running job keeps its own id ("send-<id>").
    deliver_message.enqueue_at(when, message_id, job_id=job_id("send", message_id, "at", int(when.timestamp())))


# ---------------------------------------------------------------- the reconciler

@job("send.reconcile")
def reconcile_outbox() -> dict:
    """Resolve sends nobody settled: expired leases and queued rows past their pick-up."""
    return reconcile()


def reconcile(at: datetime | None = None, limit: int = RECONCILE_BATCH) -> dict[str, int]:
    at = at or now()
    counts = {"requeued": 0, "unknown": 0, "enqueued": 0}
    rows = db.session.execute(
        select(Message.id, Message.status).where(Message.status.in_((attempts.QUEUED, attempts.SENDING)),
                                                 Message.check_at <= at)
        .order_by(Message.check_at).limit(limit)).all()
    db.session.rollback()
    for message_id, status in rows:
        if status == attempts.SENDING:
            outcome = attempts.take_over(message_id, at)
            if outcome == "unknown":
                counts["unknown"] += 1
                report_unknown(message_id)
                continue
            if outcome != "requeued":
                continue
            counts["requeued"] += 1
        elif not attempts.postpone(message_id, at):
            continue
        else:
            counts["enqueued"] += 1
        _hand_over(message_id)
    return counts


def _hand_over(message_id: int) -> None:
    try:
        enqueue_delivery(message_id)
    except Exception:  # noqa: BLE001 - Redis down: the row keeps its check_at and the next run retries
        log.warning("could not enqueue message %s; the reconciler tries again", message_id, exc_info=True)


def report_unknown(message_id: int) -> None:
    """An interrupted send that must not be repeated: one line for the operator and an alert to the admins."""
    message = attempts.load(message_id)
    if message is None:
        return
    log.error("linli: message %s to %s via %s may or may not have been delivered (send interrupted); "
              "resolve it with `linli outbox resolve %s --sent|--failed|--retry`",
              message.id, message.recipient_id, (message.handling or {}).get("route"), message.id)
    handling = message.handling or {}
    if message.community_id is None or handling.get("alert_kind") == AlertKind.SEND_UNKNOWN.value:
        return  # never an alert about an alert of this kind: no loop
    excerpt = " ".join((message.text or "").split())[:40]
    text = (f"【发送结果未知】消息#{message.id}（发往 {message.recipient_id or message.chat_id}）发送中断，"
            f"无法确认是否送达：“{excerpt}”。请向对方核实；未收到请联系运维重发"
            f"（linli outbox resolve {message.id} --retry）。")
    raise_alert(key=f"send-unknown:{message.id}", kind=AlertKind.SEND_UNKNOWN.value,
                community_id=message.community_id, text=text, recipients=community_admins(message.community_id),
                related={"message_id": message.id})
