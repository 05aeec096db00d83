"""The backstop for inbound messages: nothing acknowledged to WeChat stays unhandled.

Run every minute by the ``inbound.sweep`` job (workers/inbound.py, from cron):

- drains this node's spool (app/channels/spool.py) if deliveries wait there —
  the web process that spooled them normally does it itself; this covers a
  process that died and a node where no callback came since;
- handles inbound messages that were stored but never handled: the database
  went away between the store and the end of the handling (the resident got
  "已收到"), or the process died there. A message is claimed with a conditional
  update, so two sweeps (or a sweep and a late first handler) never handle it
  twice; its answer goes out as a customer-service message;
- finishes reports answered in the callback whose worker never came (Redis down
  at enqueue time, the worker killed): app/handlers/requests/deferred.py.
"""
from __future__ import annotations

import logging
from datetime import timedelta, timezone

from sqlalchemy import select, update

from app.channels import spool
from app.channels.intake import queue_reply, store_spooled
from app.clock import now
from app.extensions import db
from app.handlers.messaging.inbound import CHAT_GROUP, CHAT_PRIVATE, InboundMessage, handle
from app.handlers.requests import finish_pending
from app.models import Direction, Message

log = logging.getLogger(__name__)

# A message younger than this may still be in its first handler (the repeat wait is 4 s).
SETTLE_SECONDS = 30
# Older than WeChat's 48-hour customer-service window an answer cannot be sent any more.
GIVE_UP_HOURS = 48
BATCH = 200


def sweep(instance_path: str | None = None) -> dict:
    drained = spool.drain(store_spooled, instance_path)
    handled = handle_unhandled()
    finished = finish_pending()
    if drained or handled or finished:
        log.info("inbound sweep: %d spooled deliveries stored, %d unhandled messages handled, %d deferred "
                 "reports finished", drained, handled, finished)
    return {"spooled": drained, "handled": handled, "finished": finished}


def handle_unhandled(limit: int = BATCH) -> int:
    current = now()
    ids = list(db.session.scalars(select(Message.id).where(
        Message.direction == Direction.IN.value, Message.handling.is_(None),
        Message.received_at < current - timedelta(seconds=SETTLE_SECONDS),
        Message.received_at > current - timedelta(hours=GIVE_UP_HOURS)).order_by(Message.id).limit(limit)))
    db.session.rollback()
    done = 0
    for message_id in ids:
        claimed = db.session.execute(update(Message).where(Message.id == message_id, Message.handling.is_(None))
                                     .values(handling={"handled_by": "sweep", "replied": False}))
        db.session.commit()
        if claimed.rowcount != 1:
            continue   # someone else handled it meanwhile
        message = db.session.get(Message, message_id)
        try:
            reply = handle(message, _inbound_of(message))
        except Exception:  # noqa: BLE001 - one broken message must not stop the sweep
            log.exception("inbound sweep: message %s could not be handled", message_id)
            db.session.rollback()
            continue
        done += 1
        if reply.text and message.group_id is None and message.chat_id is None:
            queue_reply(message, reply.text)
    return done


def _inbound_of(message: Message) -> InboundMessage:
    received = message.received_at
    if received is not None and received.tzinfo is None:
        received = received.replace(tzinfo=timezone.utc)   # SQLite gives naive UTC back
    grouped = message.group_id is not None or message.chat_id is not None
    return InboundMessage(
        channel=message.channel, dedupe_key=message.dedupe_key, sender_id=message.sender_id or "",
        chat_id=message.chat_id, chat_type=CHAT_GROUP if grouped else CHAT_PRIVATE,
        sender_name=message.sender_name, is_staff=bool(message.is_staff), msg_type=message.msg_type or "text",
        text=message.text, media=message.media, channel_msg_id=message.channel_msg_id, sent_at=message.sent_at,
        received_at=received)
