"""Helpers shared by the events tests (no tests here).

``ChatCtx`` is a small stand-in for the router's ConversationContext (INTERFACES.md §2)
with the same attributes and methods, so the chat handlers can be driven without the
router; ``Chat`` keeps the dialogue state between turns as the router does in Redis.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.clock import now
from app.extensions import db
from app.handlers.events.chat import continue_flow, handle_cancel, handle_signup, progress_lines
from app.handlers.events.lifecycle import create_event
from app.handlers.events.matching import event_terms
from app.handlers.messaging.inbound import InboundMessage, Reply, store_once
from app.models import Direction, Message
from app.models.events import Signup
from tests.support import chat

SHANGHAI = ZoneInfo("Asia/Shanghai")
_seq = itertools.count(1)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def make_event(community, *, title: str = "每周二上午义诊", kind: str = "health_check",
               starts_at: datetime | None = None, duration: timedelta = timedelta(hours=2, minutes=30),
               publish: bool = True, staff=None, **kw):
    starts_at = starts_at or local(2026, 11, 24, 8, 30)
    return create_event(community.id, staff=staff, title=title, kind=kind, starts_at=starts_at,
                        ends_at=starts_at + duration, publish=publish, **kw)


def outbound(**filters) -> list[Message]:
    statement = select(Message).where(Message.direction == Direction.OUT.value)
    for name, value in filters.items():
        statement = statement.where(getattr(Message, name) == value)
    return list(db.session.scalars(statement.order_by(Message.id)))


def signup_count(event_id: int, status: str | None = None) -> int:
    statement = select(func.count()).select_from(Signup).where(Signup.event_id == event_id)
    if status:
        statement = statement.where(Signup.status == status)
    return db.session.scalar(statement)


@dataclass
class Understood(chat.Understood):
    intent: str = "event_signup"


ChatCtx = chat.ChatCtx


class Chat:
    """One resident talking to the bot in a private chat (or a group), turn by turn."""

    def __init__(self, resident, *, community, channel: str = "mp", sender: str | None = None, group=None):
        self.resident, self.community, self.channel, self.group = resident, community, channel, group
        self.sender = sender or f"openid-{resident.id}"
        self.state: dict = {}

    def understand(self, text: str) -> dict:
        """The slots the real bot finds, with this community's events as its vocabulary."""
        from app.bot import Vocabulary, get_bot
        understanding = get_bot().understand(text, now=now(), tz="Asia/Shanghai",
                                             chat_type="group" if self.group else "private", mentioned=True,
                                             vocab=Vocabulary(events=event_terms(self.community.id)))
        return dict(understanding.slots)

    def _ctx(self, text: str, slots: dict | None, intent: str) -> ChatCtx:
        inbound = InboundMessage(channel=self.group.channel if self.group else self.channel,
                                 dedupe_key=f"test-{next(_seq)}", sender_id=self.sender,
                                 chat_id=self.group.chat_id if self.group else None,
                                 chat_type="group" if self.group else "private", text=text)
        message, _ = store_once(inbound)
        if slots is None:
            slots = self.understand(text)
        return ChatCtx(message=message, inbound=inbound, understanding=Understood(text, intent, dict(slots)),
                       resident=self.resident, staff=None, group=self.group, community_id=self.community.id,
                       now=now(), state=dict(self.state))

    def say(self, text: str, *, slots: dict | None = None, intent: str = "event_signup") -> Reply:
        """Route like the router: an open flow continues, else the intent's handler.

        ``slots`` None: the real bot's slots for the text.
        """
        ctx = self._ctx(text, slots, intent)
        if self.state.get("flow") == "event_signup":
            reply = continue_flow(ctx)
        elif intent == "cancel":
            reply = handle_cancel(ctx)
        else:
            reply = handle_signup(ctx)
        self.state = ctx.state
        return reply

    def progress(self) -> list[str]:
        return progress_lines(self._ctx("我报的活动怎么样了", {}, "query_progress"))
