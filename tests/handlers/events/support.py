"""Helpers shared by the events tests (no tests here).

``Chat`` is the shared chat driver (tests/support/chat.py) bound to the events domain's
CHAT feature; it keeps the dialogue state between turns as the router does in Redis.
"""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.bot import Vocabulary, get_bot
from app.clock import now
from app.extensions import db
from app.handlers.events import chat as events_chat
from app.handlers.events.lifecycle import create_event
from app.handlers.events.matching import event_terms
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


class Chat(chat.ChatDriver):
    """One resident talking to the bot in a private chat (or a group), turn by turn.

    ``say(text)`` without slots reads the text with the real bot, this community's events as its vocabulary.
    """

    def __init__(self, resident, *, community, channel: str = "mp", sender: str | None = None, group=None):
        super().__init__(events_chat.CHAT, resident=resident, community_id=community.id, now=now, channel=channel,
                         sender=sender or f"openid-{resident.id}", group=group, default_intent="event_signup",
                         understand=self.understand_slots)
        self.community = community

    def understand_slots(self, text: str) -> dict:
        """The slots the real bot finds, with this community's events as its vocabulary."""
        understanding = get_bot().understand(text, now=now(), tz="Asia/Shanghai",
                                             chat_type="group" if self.group else "private", mentioned=True,
                                             vocab=Vocabulary(events=event_terms(self.community.id)))
        return dict(understanding.slots)

    def progress(self) -> list[str]:
        return self.feature.progress(self.ctx("我报的活动怎么样了", {}, "query_progress"))
