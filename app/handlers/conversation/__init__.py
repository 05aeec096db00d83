"""The conversation: routes each stored inbound message to the domain that can answer it.

- ``router``: handle_message, the dispatch to intents and multi-turn flows, the reply clock;
- ``registry``: the domains' chat features (``CHAT`` of each module in CHAT_MODULES);
- ``context``: ConversationContext, what a domain handler gets;
- ``own_intents``: chitchat, none, human, ask_info, query_progress, cancel;
- ``identity``, ``state``, ``staff_messages``: who writes, the dialogue state, staff replies seen in groups.
"""
from __future__ import annotations

from pathlib import Path

from app.bot import configure as configure_bot
from app.handlers.conversation import registry, vocabulary
from app.handlers.conversation.context import ConversationContext
from app.handlers.conversation.identity import IDENTITY_KINDS, find_staff, identify, known_sender, resolve_resident
from app.handlers.conversation.own_intents import OWN_HANDLERS, OWN_INTENTS
from app.handlers.conversation.router import handle_message
from app.handlers.conversation.state import STATE_PREFIX, load_state, parse_state, save_state, state_key
from app.handlers.messaging.inbound import set_conversation_handler

__all__ = ["IDENTITY_KINDS", "OWN_HANDLERS", "OWN_INTENTS", "STATE_PREFIX", "ConversationContext", "find_staff",
           "handle_message", "identify", "init_app", "known_sender", "load_state", "parse_state", "registry", "resolve_resident", "save_state", "state_key",
           "vocabulary"]


def init_app(app) -> None:
    """STARTUP_HOOKS entry: load the domains' chat features and install the router.

    Connects to nothing and creates no file; a chat module that is missing or
    broken raises here, so the app does not start half-deaf.
    """
    cache_dir = app.config.get("BOT_CACHE_DIR") or str(Path(app.instance_path) / "cache")
    configure_bot(cache_dir=cache_dir, data_dir=app.config.get("BOT_DATA_DIR") or None)
    registry.load()
    vocabulary.install_invalidation()
    set_conversation_handler(handle_message)
