"""One chat driver for the domains' chat tests: a resident talking turn by turn to one domain.

It routes the way the conversation router does, through the domain's ``CHAT``
feature (app/handlers/messaging/features.py): a flow in progress continues in
``feature.flows``, "cancel" goes to ``feature.cancel``, anything else to
``feature.intents``. The context is the router's own ConversationContext; only
the bot's understanding is given by the test (``Understood``) so that a handler
can be tested on exact slots.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.handlers.conversation.context import ConversationContext
from app.handlers.messaging.features import ChatFeature
from app.handlers.messaging.inbound import InboundMessage, Reply, store_once

_seq = itertools.count(1)


@dataclass
class Understood:
    """The parts of the bot's Understanding that handlers read."""

    text: str
    intent: str = "none"
    slots: dict[str, Any] = field(default_factory=dict)


class ChatDriver:
    """One sender in one chat (private, or the given group); keeps the dialogue state between turns."""

    def __init__(self, feature: ChatFeature, *, resident, community_id: int | None, now: Callable[[], datetime],
                 channel: str = "mp", sender: str, group=None, default_intent: str = "none",
                 understand: Callable[[str], dict] | None = None):
        self.feature, self.resident, self.community_id, self.now = feature, resident, community_id, now
        self.channel, self.sender, self.group = channel, sender, group
        self.default_intent = default_intent
        self.understand = understand
        self.state: dict = {}

    def ctx(self, text: str, slots: dict | None = None, intent: str | None = None) -> ConversationContext:
        """The context the router would build for this message (stored like a real delivery)."""
        group = self.group
        inbound = InboundMessage(channel=group.channel if group else self.channel, dedupe_key=f"chat-{next(_seq)}",
                                 sender_id=self.sender, chat_id=group.chat_id if group else None,
                                 chat_type="group" if group else "private", text=text)
        message, _ = store_once(inbound)
        if slots is None:
            slots = self.understand(text) if self.understand is not None else {}
        understood = Understood(text, intent or self.default_intent, dict(slots))
        return ConversationContext(message=message, inbound=inbound, understanding=understood,
                                   resident=self.resident, staff=None, group=group, community_id=self.community_id,
                                   now=self.now(), state=dict(self.state))

    def say(self, text: str, slots: dict | None = None, intent: str | None = None) -> Reply:
        """Route like the router: an open flow of this domain continues, else the intent's handler."""
        ctx = self.ctx(text, slots, intent)
        flow = self.state.get("flow")
        intent = ctx.understanding.intent
        if flow in self.feature.flows:
            reply = self.feature.flows[flow](ctx)
        elif intent == "cancel" and self.feature.cancel is not None:
            reply = self.feature.cancel(ctx)
        else:
            reply = self.feature.intents[intent](ctx)
        self.state = ctx.state
        return reply
