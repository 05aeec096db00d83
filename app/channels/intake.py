"""Handing a decoded delivery to the core, the same way for every channel.

``take(inbound)`` stores the delivery once (``app.handlers.messaging.inbound.store_once``)
and, for a new one, runs the core (``handle``). A repeat delivery is never
handled again: it gets the reply recorded for the first one, or None while the
first is still being handled (the channel then answers an empty success).

A failure inside the core must not turn into a 500 that makes WeChat retry a
message that is already stored: it is logged, recorded on the row, and the
resident gets a short "received" answer instead.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.handlers.messaging.inbound import CHAT_GROUP, InboundMessage, Reply, handle, store_once
from app.models import Message, Staff

log = logging.getLogger(__name__)

RECEIVED_TEXT = "您的消息已收到，系统暂时繁忙，工作人员会尽快处理。"


@dataclass
class Taken:
    message: Message
    reply: Reply | None
    created: bool


def take(inbound: InboundMessage, *, handle_it: bool = True, reason: str | None = None) -> Taken:
    """Store once; handle when new (``handle_it``) or just record why it was not handled."""
    message, created = store_once(inbound)
    if not created:
        handling = message.handling or {}
        text = handling.get("reply_text")
        return Taken(message, Reply(text=text, handled_by="repeat") if text else None, False)
    if not handle_it:
        message.handling = {"handled_by": "channel", "replied": False, "reason": reason or "not conversational"}
        db.session.commit()
        return Taken(message, None, True)
    try:
        reply = handle(message, inbound)
    except Exception:
        log.exception("handling inbound message %s failed", message.id)
        db.session.rollback()
        speak = inbound.chat_type != CHAT_GROUP or inbound.mentioned
        reply = Reply(text=RECEIVED_TEXT if speak and not inbound.is_staff else None, handled_by="error")
        row = db.session.get(Message, message.id)
        if row is not None:
            row.handling = {"handled_by": "error", "replied": reply.text is not None, "reply_text": reply.text}
            db.session.commit()
            message = row
    return Taken(message, reply, True)


def staff_by_wework_userid(userid: str | None) -> Staff | None:
    if not userid:
        return None
    return db.session.scalars(select(Staff).where(Staff.wework_userid == userid, Staff.active.is_(True))).first()


def staff_by_openid(openid: str | None) -> Staff | None:
    if not openid:
        return None
    return db.session.scalars(select(Staff).where(Staff.openid == openid, Staff.active.is_(True))).first()
