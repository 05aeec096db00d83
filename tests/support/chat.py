"""A stand-in for the router's ConversationContext, for testing a handler on its own."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.handlers.messaging.inbound import InboundMessage, Reply
from app.models import Message


@dataclass
class Understood:
    """The parts of the bot's Understanding that handlers read."""

    text: str
    intent: str = "none"
    slots: dict[str, Any] = field(default_factory=dict)


@dataclass
class ChatCtx:
    """Same attributes and methods as the router's ConversationContext (INTERFACES.md §2)."""

    message: Message
    inbound: InboundMessage
    understanding: Understood
    resident: Any
    staff: Any
    group: Any
    community_id: int | None
    now: datetime
    state: dict

    def start_flow(self, name: str, **data) -> None:
        self.state = {"flow": name, **data}

    def end_flow(self) -> None:
        self.state = {}

    def reply(self, text: str, handled_by: str, **detail) -> Reply:
        return Reply(text=text, handled_by=handled_by, detail=detail)
