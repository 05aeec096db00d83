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
class Express:
    """How a domain answers the first message of an intent in the callback, before anything is written
    (app/handlers/conversation/express.py): from the bot's understanding alone, for a sender that has
    nothing of this domain the message could belong to."""

    # (understanding, arrived) -> (reply text, handled_by, detail) or None: answer it the ordinary way.
    # The detail is stored as the message's handling record and must say what a worker still owes.
    answer: Callable[[Any, Any], "tuple[str, str, dict] | None"]
    # (resident id: a SQL expression, channel, since: a bound time) -> a SQL condition: the resident has
    # something this message may join, written to since ``since`` (then the ordinary handler decides).
    # Asked in the same query as the sender.
    joinable: Callable[[Any, str, Any], Any]
    # () -> seconds: how far back ``joinable`` looks (since = arrival - this); 0: nothing is ever joined
    window_seconds: Callable[[], int] = lambda: 0

@dataclass(frozen=True)
class ChatFeature:
    """The chat entry points of one domain; every field is optional."""

    # (ctx) -> Reply | None: sees each resident text message before its intent or flow is handled; a Reply
    # takes the message (a vote on a topic open in the group), None lets it through. A listener that answers
    # sets ctx.understanding.should_reply (a group hears the bot only then); no reply clock is started.
    listen: Handler | None = None
    # (text) -> bool, pure: whether ``listen`` might take this text at all. Without it, every message
    # may be the listener's, and no message of the domain's intents is answered in the callback.
    listen_cue: Callable[[str], bool] | None = None
    # intent -> Express: the first message of an intent answered in the callback (a worker finishes it)
    express: dict[str, Express] = field(default_factory=dict)
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
