"""Channel test settings and helpers.

The core's answer is pinned per test: ``help_core`` removes any installed
conversation handler (the help-text fallback), ``echo_core`` installs a small
deterministic one — so these tests do not depend on the bot.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.handlers.messaging import inbound as inbound_module
from app.handlers.messaging.inbound import Reply
from app.models import Direction, Message
from tests.support.fixtures import CREDENTIALS

WECHAT_TOKEN = "linliWechatToken2026"
WECHAT_AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
WEWORK_TOKEN = "QDG6eK"
WEWORK_AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
AIBOT_TOKEN = "linliAibotToken2026"
AIBOT_AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
INGEST_SECRET = "linli-ingest-secret-for-tests-0123456789"

CHANNEL_SETTINGS = {
    **CREDENTIALS,
    "WECHAT_TOKEN": WECHAT_TOKEN, "WECHAT_AES_KEY": WECHAT_AES_KEY,
    "WEWORK_TOKEN": WEWORK_TOKEN, "WEWORK_AES_KEY": WEWORK_AES_KEY,
    "WEWORK_AIBOT_TOKEN": AIBOT_TOKEN, "WEWORK_AIBOT_AES_KEY": AIBOT_AES_KEY,
    "INGEST_SECRET": INGEST_SECRET,
}


@pytest.fixture
def app_overrides():
    return dict(CHANNEL_SETTINGS)


@pytest.fixture
def help_core(monkeypatch):
    """No conversation handler: the core's fixed help text path."""
    monkeypatch.setitem(inbound_module._handler, "fn", None)


@pytest.fixture
def echo_core(monkeypatch):
    """A deterministic conversation handler: '收到：<text>'; silent for group chatter."""
    seen = []

    def handler(message, inbound):
        seen.append(inbound)
        if inbound.chat_type == "group" and not inbound.mentioned:
            return Reply.silent("test-echo")
        return Reply(text=f"收到：{inbound.text or inbound.msg_type}", handled_by="test-echo")

    monkeypatch.setitem(inbound_module._handler, "fn", handler)
    return seen


def inbound_rows() -> list[Message]:
    db.session.expire_all()
    return list(db.session.scalars(select(Message).where(Message.direction == Direction.IN.value)
                                   .order_by(Message.id)))


def outbound_rows() -> list[Message]:
    db.session.expire_all()
    return list(db.session.scalars(select(Message).where(Message.direction == Direction.OUT.value)
                                   .order_by(Message.id)))
