"""What a domain chat handler gets: the message, who sent it, what the bot understood, the dialogue state."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.bot import Understanding, Vocabulary
from app.handlers.messaging.inbound import CHAT_GROUP, InboundMessage, Reply
from app.models import Message, Resident, ResidentGroup, Staff


@dataclass
class ConversationContext:
    """One message being handled; domain handlers read it and answer with ``ctx.reply``."""

    message: Message
    inbound: InboundMessage
    understanding: Understanding
    resident: Resident | None
    staff: Staff | None
    group: ResidentGroup | None
    community_id: int | None
    now: datetime
    state: dict = field(default_factory=dict)
    vocabulary: Vocabulary | None = field(default=None, repr=False)
    # The resident was created by this very message: nothing of theirs exists yet (no request, nothing
    # pending), so handlers need not look.
    first_contact: bool = False

    def start_flow(self, name: str, **data) -> None:
        """Begin (or move on in) a multi-turn dialogue; the next message goes to the flow named ``name``."""
        self.state = {"flow": name, **data}

    def end_flow(self) -> None:
        self.state = {}

    def reply(self, text: str | None, handled_by: str, **detail) -> Reply:
        return Reply(text=text, handled_by=handled_by, detail=detail)

    @property
    def is_group(self) -> bool:
        return self.inbound.chat_type == CHAT_GROUP
