"""The bot's public value types (the contract in INTERFACES.md §1)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

INTENTS = ("report_issue", "book_proxy", "event_signup", "query_progress", "cancel", "ask_info", "rate",
           "human", "chitchat", "none")
CATEGORIES = ("repair", "utilities", "environment", "parking", "ebike", "noise", "property", "safety",
              "neighbor", "other")
RATINGS = ("satisfied", "basically", "unsatisfied")
CHAT_GROUP = "group"
CHAT_PRIVATE = "private"


@dataclass(frozen=True)
class ServiceTerm:
    """A proxy-handling item (代办事项) as residents may name it: its stable key and its names/aliases."""

    key: str
    names: tuple[str, ...]

    def __init__(self, key: str, names):
        object.__setattr__(self, "key", str(key))
        object.__setattr__(self, "names", tuple(n for n in (names or ()) if n))


@dataclass(frozen=True)
class EventTerm:
    """An event or volunteer activity residents may sign up for."""

    key: str
    names: tuple[str, ...]
    kind: str | None = None
    starts_at: datetime | None = None

    def __init__(self, key: str, names, kind: str | None = None, starts_at: datetime | None = None):
        object.__setattr__(self, "key", str(key))
        object.__setattr__(self, "names", tuple(n for n in (names or ()) if n))
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "starts_at", starts_at)


@dataclass(frozen=True)
class Vocabulary:
    """What the caller knows about its community: services and events (from the database)."""

    services: tuple[ServiceTerm, ...] = ()
    events: tuple[EventTerm, ...] = ()

    def __init__(self, services=(), events=()):
        object.__setattr__(self, "services", tuple(services or ()))
        object.__setattr__(self, "events", tuple(events or ()))


@dataclass
class Understanding:
    """What the bot made of one message."""

    text: str
    intent: str = "none"
    confidence: float = 1.0
    category: str | None = None
    needs_reply: bool = False
    should_reply: bool = False
    slots: dict[str, Any] = field(default_factory=dict)
    # Beyond the contract, for the router and for debugging:
    answer: str | None = None          # FAQ answer when the bot can answer an ask_info itself
    faq_key: str | None = None
    mentioned: bool = False            # addressed by @-mention (detected in the text or told by the channel)
    flow_continues: bool = False       # the message answers the active multi-turn flow
    chitchat_kind: str | None = None   # thanks | greet | ack, for a fitting short answer
    # "When unsure, do not go silent": a group message the bot leaves silent (intent none or
    # chitchat, not addressed) that might be a report. The router may put it in the duty inbox
    # as a possible request for staff to decide; the bot never answers it in the group itself.
    maybe_report: bool = False
    report_likelihood: float = 0.0     # 0..1: the confidence of a report (for report_issue) or how
                                       # much a silent group message looks like one (else 0)
    emergency: bool = False            # a report of danger now (a person trapped, fire, gas, flooding)
    scores: dict[str, float] = field(default_factory=dict)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "intent": self.intent, "confidence": round(self.confidence, 3),
                "category": self.category, "needs_reply": self.needs_reply, "slots": dict(self.slots)}


@dataclass(frozen=True)
class FormClassification:
    """A request filed without a category (mini-program form, API), read by the bot
    (``Bot.classify_form``): what the caller needs to file it like a chat report."""

    category: str                       # one of CATEGORIES ("other" when nothing points anywhere)
    building: str | None = None         # as in Understanding.slots: "3", "B" ...
    unit: str | None = None
    room: str | None = None
    urgency: str | None = None          # "emergency" (danger now), else None: the category's deadline class
    confidence: float = 0.0             # of the category, 0..1 (0 without evidence)
    # The text names a problem or a category at all. Without ("你好", "3号楼") the category is
    # "other" with confidence 0, a default and not a reading: a form should let the resident pick.
    evidence: bool = False
