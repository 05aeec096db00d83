"""What a domain offers the conversation router: one ``ChatFeature`` per domain chat module.

Each domain's ``chat.py`` exports ``CHAT = ChatFeature(...)``; the router
(app.handlers.conversation) imports the list of those modules at start-up, so
a broken module stops start-up instead of being skipped per message. The
handlers take a ``ConversationContext``, which domains annotate under
``TYPE_CHECKING`` only: they never import the router above them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

Handler = Callable[[Any], Any]  # (ctx) -> Reply


@dataclass(frozen=True)
class ChatFeature:
    """The chat entry points of one domain; every field is optional."""

    # (ctx) -> Reply | None: sees each resident text message before its intent or flow is handled; a Reply
    # takes the message (a vote on a topic open in the group), None lets it through. A listener that answers
    # sets ctx.understanding.should_reply (a group hears the bot only then); no reply clock is started.
    listen: Handler | None = None
    # intent -> handler(ctx) -> Reply: the first message of an intent
    intents: dict[str, Handler] = field(default_factory=dict)
    # state["flow"] -> handler(ctx) -> Reply: the next message of a multi-turn dialogue
    flows: dict[str, Handler] = field(default_factory=dict)
    # (ctx) -> list[str]: lines about the resident's own items, for "my progress"
    progress: Handler | None = None
    # (ctx) -> Reply | None: cancels something of the resident's, or None when it has nothing to cancel
    cancel: Handler | None = None
    # vocabulary name -> fn(community_id) -> list of terms the bot should know (services, events)
    vocabulary: dict[str, Callable[[int | None], list]] = field(default_factory=dict)
    # the model classes those functions read: a commit that writes one of them renews the vocabulary the
    # router keeps per process (app/handlers/conversation/vocabulary.py)
    vocabulary_models: tuple[type, ...] = ()
    # (ctx) -> str | None: an answer for ask_info, asked before the FAQ file
    info: Handler | None = None
    # (ctx) -> Reply | None: media sent right after a message of this domain
    media: Handler | None = None
    # (ctx) -> Reply | None: called for a staff message seen in a resident group, after the clocks stopped
    staff_group_hook: Handler | None = None
