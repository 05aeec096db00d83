"""The one core entry point for every inbound message, whatever the channel.

Channel adapters (app/channels) verify and decode a delivery, build an
``InboundMessage``, store it once (``store_once``) and call ``handle``. The
core never sees XML or channel specifics.

``handle`` runs the registered conversation handler (the bot's router, see
app/handlers/conversation.py) and falls back to a fixed help text when none is
registered or the handler declines.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.bot.types import CHAT_GROUP, CHAT_PRIVATE  # one definition, shared with the bot
from app.clock import now
from app.database import conflict_insert, dialect_name
from app.extensions import db
from app.handlers.messaging.to_finish import request_finish
from app.models import Direction, Message, ResidentGroup

log = logging.getLogger(__name__)

HELP_TEXT = (
    "您好，这里是社区服务助手。您可以直接说：\n"
    "· 报事报修，如“3栋楼道灯坏了”\n"
    "· 预约代办，如“想预约代办尊老金”\n"
    "· 活动报名，如“周六义诊报个名”\n"
    "· 查询进度，如“我报的漏水修了没有”\n"
    "· 转人工，找值班人员"
)



@dataclass
class InboundMessage:
    """A message as the core sees it, independent of the channel."""

    channel: str                  # app.models.Channel value: mp, miniprogram, wework, group
    dedupe_key: str               # channel message id, or sender + create time for events
    sender_id: str                # openid / WeCom userid / external userid / bridge sender id
    chat_id: str | None = None    # group chat id; None (or the sender id) for 1:1 chats
    chat_type: str = CHAT_PRIVATE
    sender_name: str | None = None
    is_staff: bool = False        # the sender is community staff (e.g. seen by the group bridge)
    msg_type: str = "text"        # text, image, voice, event, location, link, ...
    text: str | None = None
    media: dict[str, Any] | None = None
    channel_msg_id: str | None = None
    sent_at: datetime | None = None
    mentioned: bool = False       # the bot was @-mentioned (group chats)
    event: str | None = None      # for msg_type == "event": subscribe, click, enter_session, ...
    extra: dict[str, Any] = field(default_factory=dict)
    # When linli got it: set by store_once, or earlier by the channel when the delivery waited in
    # the spool (app/channels/spool.py); the reply clock starts here, not when it was handled.
    received_at: datetime | None = None
    # Carried from the channel's own look-ups so the router need not ask again (both None/False
    # when the message comes from the spool or the sweep: the router then looks them up itself).
    staff_checked: bool = False   # the channel looked the sender up among active staff ...
    staff_id: int | None = None   # ... and found this one (None: not staff)
    resident_checked: bool = False   # the channel looked up the sender's resident identity too ...
    resident_id: int | None = None   # ... and found this resident (None: first contact)
    dialogue_state: dict | None = None   # read in the callback's one Redis round trip
    vocabulary_version: str | None = None   # ditto: the bot vocabulary's token (conversation/vocabulary.py)
    # The channel answers at once and lets a worker finish the heavy part (a new report's request
    # and clock: app/handlers/requests/deferred.py). Only /wechat/mp 1:1 deliveries say so; the
    # spool, the sweep and every other channel handle inline.
    may_defer: bool = False

    @property
    def conversation_key(self) -> str:
        """Dialogue state is kept per (chat, sender)."""
        return f"{self.channel}:{self.chat_id or '-'}:{self.sender_id}"


@dataclass
class Reply:
    """What the core answers. ``text`` None means: say nothing (e.g. group chatter)."""

    text: str | None
    kind: str = "text"            # text; channels may support more later
    handled_by: str = "help"      # which handler produced it (for the message's handling record)
    detail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def silent(cls, handled_by: str = "silent", **detail) -> "Reply":
        return cls(text=None, handled_by=handled_by, detail=detail)


# The conversation handler: (stored message row, inbound) -> Reply or None to fall back to help.
ConversationHandler = Callable[[Message, InboundMessage], "Reply | None"]
_handler: dict[str, ConversationHandler | None] = {"fn": None}


def set_conversation_handler(fn: ConversationHandler | None) -> None:
    """Install the conversation router (done by create_app when the bot is available)."""
    _handler["fn"] = fn


def group_for(inbound: InboundMessage) -> ResidentGroup | None:
    if not inbound.chat_id or inbound.chat_type != CHAT_GROUP:
        return None
    return db.session.scalars(select(ResidentGroup).where(
        ResidentGroup.channel == inbound.channel, ResidentGroup.chat_id == inbound.chat_id)).first()


def store_once(inbound: InboundMessage, known: dict[str, Any] | None = None) -> tuple[Message, bool]:
    """Store the delivery; returns (row, created). A repeat returns the stored row and False.

    One statement for a new delivery — INSERT ... ON CONFLICT DO NOTHING RETURNING
    the row — on the unique key (channel, direction, dedupe_key), which makes it
    atomic under concurrency: of several processes inserting the same delivery,
    one inserts and the others read its row. A repeat costs one more SELECT.
    ``known``: columns the channel knows already (the sender's resident and community),
    stored with the row where the group does not say otherwise.
    """
    if inbound.received_at is None:
        inbound.received_at = now()
    group = group_for(inbound)
    values = dict(
        direction=Direction.IN.value, channel=inbound.channel, dedupe_key=inbound.dedupe_key[:191],
        channel_msg_id=inbound.channel_msg_id, chat_id=inbound.chat_id,
        group_id=group.id if group else None, community_id=group.community_id if group else None,
        sender_id=inbound.sender_id, sender_name=inbound.sender_name, is_staff=inbound.is_staff,
        msg_type=inbound.msg_type, text=inbound.text, media=inbound.media, sent_at=inbound.sent_at,
        received_at=inbound.received_at,
    )
    for name, value in (known or {}).items():
        if values.get(name) is None:
            values[name] = value
    insert = conflict_insert(dialect_name(db.session))
    statement = insert(Message).values(**values).on_conflict_do_nothing().returning(Message)
    try:
        row = db.session.scalars(statement).first()
        db.session.commit()
    except IntegrityError:  # pragma: no cover - another unique key; ON CONFLICT covers the dedupe key
        db.session.rollback()
        row = None
    if row is not None:
        return row, True
    existing = _find(inbound)
    if existing is None:  # pragma: no cover - the unique key guarantees a row
        raise RuntimeError(f"delivery {inbound.dedupe_key} neither inserted nor found")
    return existing, False


def _find(inbound: InboundMessage) -> Message | None:
    return db.session.scalars(select(Message).where(
        Message.channel == inbound.channel, Message.direction == Direction.IN.value,
        Message.dedupe_key == inbound.dedupe_key[:191])).first()


def handle(message: Message, inbound: InboundMessage) -> Reply:
    """Understand and answer a freshly stored message; records what was done on the row."""
    reply: Reply | None = None
    fn = _handler["fn"]
    if fn is not None:
        reply = fn(message, inbound)
    if reply is None:
        reply = default_reply(inbound)
    message.handling = {"handled_by": reply.handled_by, "replied": reply.text is not None,
                        "reply_text": reply.text, **reply.detail}
    db.session.commit()
    if reply.detail.get("deferred"):
        request_finish(message.id)   # after the commit: the worker must find the row pending
    return reply


def default_reply(inbound: InboundMessage) -> Reply:
    """Without the bot: help text in 1:1 chats and when addressed; silence for group chatter."""
    if inbound.chat_type == CHAT_GROUP and not inbound.mentioned:
        return Reply.silent("help")
    if inbound.is_staff:
        return Reply.silent("help")
    return Reply(text=HELP_TEXT, handled_by="help")


def receive(inbound: InboundMessage) -> tuple[Reply | None, bool]:
    """Store once and handle. Returns (reply, is_new).

    A repeat delivery is never handled again: it gets the answer recorded for
    the first one, or None (the channel answers an empty success) while the
    first is still being handled.
    """
    message, created = store_once(inbound)
    if not created:
        handling = message.handling or {}
        if handling.get("reply_text"):
            return Reply(text=handling["reply_text"], handled_by="repeat"), False
        return None, False
    return handle(message, inbound), True
