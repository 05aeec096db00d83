"""Handing a decoded delivery to the core, the same way for every channel.

``take(inbound)`` stores the delivery once (``app.handlers.messaging.inbound.store_once``)
and, for a new one, runs the core (``handle``). A repeat delivery is never
handled again: it gets the reply recorded for the first one; while the first
is still being handled, a repeat that asked to (``wait=True``, the WeChat
callbacks) waits for that reply within WeChat's 5-second window
(docs/reliability.md, failure 8).

A copy with a new MsgId (WeChat sometimes redelivers so) is recognised by its
content: the same channel, chat, sender and text within ``RESEND_WINDOW_SECONDS``
is one delivery and gets the first copy's answer.

A failure inside the core must not turn into a 500 that makes WeChat retry a
message that is already stored: it is logged, recorded on the row, and the
resident gets a short "received" answer instead. With the database
unreachable, ``take_or_spool`` keeps the delivery in the local spool
(app/channels/spool.py) and the resident gets the same short answer; the
spool is stored and handled when the database is back, and the real answer
goes out as a customer-service message (failure 6).
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import redis
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.channels import spool
from app.clock import now
from app.extensions import db, redis_ext
from app.handlers.conversation import identify, known_sender
from app.handlers.messaging.inbound import CHAT_GROUP, InboundMessage, Reply, handle, store_once
from app.handlers.messaging.outbox import TO_USER, queue_message
from app.models import Direction, Message

log = logging.getLogger(__name__)

RECEIVED_TEXT = "您的消息已收到，系统暂时繁忙，工作人员会尽快处理。"
# WeChat drops a callback connection after 5 s; a repeat waits at most this long for the
# first copy's answer and keeps the rest for answering.
REPEAT_WAIT_SECONDS = 4.0
# A copy with a new MsgId: WeChat's redeliveries come within seconds (its own retries are
# 5 s apart); a resident typing the very same text twice within 10 s means it once.
RESEND_WINDOW_SECONDS = 10


@dataclass
class Prefetched:
    """What the callback's one Redis round trip said (app/channels/prefetch.py)."""

    redis_ok: bool
    first_key: str | None = None     # dedupe key of an earlier copy of this text within the window


@dataclass
class Taken:
    message: Message | None       # None when the delivery went to the spool
    reply: Reply | None
    created: bool
    spooled: bool = False


def database_down(exc: BaseException) -> bool:
    """The database cannot be reached (refused, reset, timed out), as opposed to a bug or bad data."""
    if isinstance(exc, (OperationalError, InterfaceError, PoolTimeout)):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def take(inbound: InboundMessage, *, handle_it: bool = True, reason: str | None = None,
         wait: bool = False, prefetched: Prefetched | None = None) -> Taken:
    """Store once; handle when new (``handle_it``) or just record why it was not handled."""
    first_key = _first_copy_key(inbound, prefetched)
    if first_key is not None:
        inbound.dedupe_key = first_key   # a copy with a new MsgId: answered as a repeat of the first
    message, created = store_once(inbound, known_sender(inbound) if handle_it else None)
    if not created:
        return Taken(message, _repeat_reply(message, wait), False)
    if not handle_it:
        message.handling = {"handled_by": "channel", "replied": False, "reason": reason or "not conversational"}
        db.session.commit()
        return Taken(message, None, True)
    try:
        reply = handle(message, inbound)
    except Exception as exc:
        log.exception("handling inbound message %s failed", message.id)
        db.session.rollback()
        speak = inbound.chat_type != CHAT_GROUP or inbound.mentioned
        reply = Reply(text=RECEIVED_TEXT if speak and not inbound.is_staff else None, handled_by="error")
        if database_down(exc):
            # Stored but not handled: the inbound sweep handles it once the database is back.
            return Taken(message, reply, True)
        row = db.session.get(Message, message.id)
        if row is not None:
            row.handling = {"handled_by": "error", "replied": reply.text is not None, "reply_text": reply.text}
            db.session.commit()
            message = row
    return Taken(message, reply, True)


def _repeat_reply(message: Message, wait: bool) -> Reply | None:
    handling = message.handling
    deadline = time.monotonic() + (REPEAT_WAIT_SECONDS if wait else 0)
    delay = 0.02
    while handling is None and time.monotonic() < deadline:
        # The first copy is still being handled (its row has no handling yet): poll the row, each
        # time in a transaction of its own, ended at once — a reader holding its snapshot would
        # not see the commit, and on SQLite would block the first copy's write.
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
        db.session.rollback()
        handling = db.session.scalar(select(Message.handling).where(Message.id == message.id))
        db.session.rollback()
    if handling is None:
        return Reply(text=RECEIVED_TEXT, handled_by="repeat-wait") if wait else None
    text = handling.get("reply_text")
    return Reply(text=text, handled_by="repeat") if text else None


def resend_key_of(inbound: InboundMessage) -> str | None:
    if inbound.msg_type != "text" or not inbound.text:
        return None
    digest = hashlib.sha256("\x1f".join((inbound.channel, inbound.chat_id or "-", inbound.sender_id,
                                         inbound.text)).encode("utf-8")).hexdigest()[:32]
    return f"linli:resend:{digest}"


def _first_copy_key(inbound: InboundMessage, prefetched: Prefetched | None = None) -> str | None:
    """The dedupe key of an earlier copy of this text (same chat, sender, text) within the window, if any.

    Redis SET NX makes it atomic between processes; with Redis down the database is
    asked instead (a race between two copies then stores both: no worse than before).
    ``prefetched``: the callback asked Redis already (in its one pipeline).
    """
    key = resend_key_of(inbound)
    if key is None:
        return None
    if prefetched is not None:
        first = prefetched.first_key if prefetched.redis_ok else _first_copy_in_database(inbound)
        return first if first and first != inbound.dedupe_key else None
    try:
        client = redis_ext.client
        if client.set(key, inbound.dedupe_key, nx=True, ex=RESEND_WINDOW_SECONDS):
            return None
        first = client.get(key)
        first = first.decode() if first is not None else None
    except (redis.RedisError, OSError):
        first = _first_copy_in_database(inbound)
    return first if first and first != inbound.dedupe_key else None


def _first_copy_in_database(inbound: InboundMessage) -> str | None:
    since = now() - timedelta(seconds=RESEND_WINDOW_SECONDS)
    query = (select(Message.dedupe_key).where(
        Message.channel == inbound.channel, Message.direction == Direction.IN.value,
        Message.sender_id == inbound.sender_id, Message.received_at >= since, Message.text == inbound.text,
        Message.chat_id.is_(None) if inbound.chat_id is None else Message.chat_id == inbound.chat_id)
        .order_by(Message.id).limit(1))
    return db.session.scalar(query)


# ---------------------------------------------------------------- the database is down: the spool

def take_or_spool(inbound: InboundMessage, *, staff_by: str | None = None, handle_it: bool = True,
                  reason: str | None = None, wait: bool = False, prefetched: Prefetched | None = None) -> Taken:
    """``take``, or with the database unreachable: keep the delivery in the spool and say "received".

    ``staff_by`` ("openid" / "wework_userid") says the sender id is to be told apart from
    residents; it is looked up here, in the same guard, because it reads the database too,
    and once, with the resident's identity in the same query: the router uses these answers
    (``inbound.staff_checked``, ``inbound.resident_checked``).

    The engine does not ping a connection at each checkout (app/__init__.py): a connection
    the server dropped (restart, idle timeout) fails at its first statement, which SQLAlchemy
    reports as ``connection_invalidated`` after discarding the pool's old connections; the
    delivery is then tried once more on a fresh connection before it goes to the spool.
    """
    for attempt in (1, 2):
        try:
            if staff_by:
                if not db.session().in_transaction():
                    # The look-up and the INSERT are one statement each, the INSERT's commit is the
                    # store's (store_once): in autocommit, without the BEGIN and COMMIT round trips.
                    db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
                identify(inbound)   # staff, and the resident's identity, in one query
            return take(inbound, handle_it=handle_it, reason=reason, wait=wait, prefetched=prefetched)
        except Exception as exc:
            if not database_down(exc):
                raise
            _safe_rollback()
            if attempt == 1 and getattr(exc, "connection_invalidated", False):
                continue   # a stale pooled connection, not an outage: once more on a new one
            log.warning("database unreachable: delivery %s/%s kept in the spool", inbound.channel,
                        inbound.dedupe_key)
            break
    inbound.received_at = inbound.received_at or now()
    spool.append({"inbound": _serialise(inbound), "staff_by": staff_by, "handle_it": handle_it, "reason": reason})
    spool.ensure_drainer(current_app._get_current_object(), store_spooled)
    speak = handle_it and inbound.chat_type != CHAT_GROUP and not inbound.is_staff
    return Taken(None, Reply(text=RECEIVED_TEXT, handled_by="spool") if speak else None, True, spooled=True)


def drain_spool_if_pending() -> None:
    """Called at each callback: a spool left by a process that died (or by a past outage) gets drained."""
    app = current_app._get_current_object()
    if spool.pending(app.instance_path):
        spool.ensure_drainer(app, store_spooled)


def store_spooled(entry: dict) -> None:
    """Store and handle one spooled delivery; its real answer goes out as a message (the resident got "已收到")."""
    inbound = _deserialise(entry["inbound"])
    try:
        taken = take_or_raise(inbound, entry)
    except Exception as exc:
        if database_down(exc):
            raise   # still down: the drain stops and keeps the entry
        _safe_rollback()
        log.exception("inbound spool: delivery %s/%s could not be handled; dropped: %r",
                      inbound.channel, inbound.dedupe_key, entry)
        return
    reply = taken.reply.text if taken.reply else None
    if taken.created and reply and taken.message is not None and inbound.chat_type != CHAT_GROUP:
        queue_reply(taken.message, reply)


def take_or_raise(inbound: InboundMessage, entry: dict) -> Taken:
    if entry.get("staff_by"):
        identify(inbound)
    return take(inbound, handle_it=bool(entry.get("handle_it", True)), reason=entry.get("reason"))


def queue_reply(message: Message, text: str) -> None:
    """The answer to an inbound message as a customer-service / app message (once per message)."""
    try:
        queue_message(channel=message.channel, recipient_kind=TO_USER, recipient_id=message.sender_id, text=text,
                      idempotency_key=f"reply:{message.id}", in_reply_to_id=message.id,
                      community_id=message.community_id, meta={"reply_to": message.id})
    except (redis.RedisError, OSError):
        # The row is recorded (queued); only the job could not be enqueued: the outbox sweep sends it.
        log.warning("reply to message %s recorded but not enqueued (Redis unreachable)", message.id)


def _safe_rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone already; the session is discarded
        db.session.remove()


def _serialise(inbound: InboundMessage) -> dict:
    data = asdict(inbound)
    for name in ("sent_at", "received_at"):
        data[name] = data[name].isoformat() if data[name] else None
    return data


def _deserialise(data: dict) -> InboundMessage:
    data = dict(data)
    for name in ("sent_at", "received_at"):
        data[name] = datetime.fromisoformat(data[name]) if data.get(name) else None
    # Looked up again when the spool is drained: staff and dialogue state may have changed since.
    # A spooled delivery is handled inline when the spool is drained (its resident heard "已收到").
    for name in ("staff_checked", "staff_id", "resident_checked", "resident_id", "dialogue_state",
                 "vocabulary_version", "may_defer"):
        data.pop(name, None)
    return InboundMessage(**data)
